"""Flask application for zhsearch (placeholder until the web package lands)."""


def create_app(config=None):  # pragma: no cover - replaced by the web issue
    raise NotImplementedError
