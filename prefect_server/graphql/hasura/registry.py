"""Home of the generated Hasura types, so that ``strawberry.lazy`` can find them by name."""
