"""Build-time tools: pull the GraphQL schema, diff it, and generate the typed clients.

Nothing here is imported at run time; `make generate` writes its output to generated/.
"""
