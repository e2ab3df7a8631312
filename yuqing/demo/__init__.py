"""`yuqing demo`: a sample site about an invented county and a guided run of the real daemon against it."""
