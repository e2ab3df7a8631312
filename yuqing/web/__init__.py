"""`yuqing serve`: the web app over the store (login, sessions, CSRF, pages, actions)."""
