"""The generated control-plane types, under a stable public name.

Models, input types and enums that ariadne-codegen generates from
schema/runpod.graphql and codegen/operations (see docs/ARCHITECTURE.md), e.g.
`from runpod_typed.graphql import PodFindAndDeployOnDemandInput, CloudTypeEnum`.
`rp.graphql` is the client whose methods take and return them.
"""

from runpod_typed._generated.graphql import *  # noqa: F403
from runpod_typed._generated.graphql import __all__ as __all__
