"""The built-in web UI: server-rendered pages under ``/ui`` beside the GraphQL API.

Pages are a thin adapter: ``pages/`` holds the routes, ``queries/`` the bounded read
functions they call, and every write goes through the same domain functions as the
GraphQL actions. Templates and static files ship inside the package.
"""

from prefect_server.ui.routes import PREFIX, install

__all__ = ["PREFIX", "install"]
