"""The two implementations of ``prefect_server.database.dialect.Dialect``."""
