"""yuqing: a public-opinion monitoring daemon (舆情监测) for a local office."""

__version__ = "0.1.0"
