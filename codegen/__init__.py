"""Build-time tools: pull the GraphQL schema, diff it, and generate the typed clients.

Nothing here is imported at run time; `make generate` writes its output to generated/.
"""

from pathlib import Path

#: codegen/, and the checkout it belongs to.
CODEGEN = Path(__file__).resolve().parent
ROOT = CODEGEN.parent
#: The committed GraphQL schema (SDL) snapshot, and the operations generated against it.
SDL = ROOT / "schema" / "runpod.graphql"
OPERATIONS = CODEGEN / "operations"
#: The committed REST v2 description.
V2_SPEC = ROOT / "schema" / "runpod-rest-v2.openapi.json"
