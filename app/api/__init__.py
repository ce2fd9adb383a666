"""HTTP layer: FastAPI routers and schemas only; parse, call, shape the reply."""
