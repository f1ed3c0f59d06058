"""The GraphQL SDL snapshot and the SDK's operations: they build, round-trip and validate.

Codegen, the emulator and schema-diff all read these files, so the checks here are the
contract between them: the SDL is in canonical printed form (so a pull or a regeneration
gives a byte-identical file), every operation validates, passes values only as
variables, and keeps the name the generated client methods are made from.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    ValueNode,
    VariableNode,
    Visitor,
    build_client_schema,
    build_schema,
    introspection_from_schema,
    lexicographic_sort_schema,
    parse,
    print_schema,
    validate,
    visit,
)
from graphql.language import ArgumentNode, ObjectFieldNode, VariableDefinitionNode

ROOT = Path(__file__).resolve().parents[2]
SDL_PATH = ROOT / "schema" / "runpod.graphql"
OPERATIONS_DIR = ROOT / "codegen" / "operations"
OPERATION_FILES = sorted(OPERATIONS_DIR.glob("*.graphql"))

# Method names of the generated client come from these; renaming one breaks users.
EXPECTED_OPERATIONS = {
    "user.graphql": {"Myself", "UpdateUserSettings"},
    "catalogue.graphql": {
        "GpuTypes",
        "CpuTypes",
        "CpuFlavors",
        "CpuAvailability",
        "DataCenters",
        "CountryCodes",
    },
    "pods.graphql": {
        "Pods",
        "Pod",
        "CreatePod",
        "CreateSpotPod",
        "CreateCpuPod",
        "EditPod",
        "ResumePod",
        "BidResumePod",
        "StopPod",
        "TerminatePod",
    },
    "templates.graphql": {"Templates", "SaveTemplate", "DeleteTemplate"},
    "endpoints.graphql": {
        "Endpoints",
        "EndpointById",
        "SaveEndpoint",
        "UpdateEndpointTemplate",
        "DeleteEndpoint",
    },
    "registry_auth.graphql": {
        "RegistryAuths",
        "CreateRegistryAuth",
        "UpdateRegistryAuth",
        "DeleteRegistryAuth",
    },
    "network_volumes.graphql": {
        "NetworkVolumes",
        "CreateNetworkVolume",
        "UpdateNetworkVolume",
        "DeleteNetworkVolume",
    },
    "secrets.graphql": {"Secrets", "CreateSecret", "DeleteSecret"},
    "clusters.graphql": {"CreateCluster", "DeleteCluster"},
}

# RunPod's own root field names for the features the SDK covers.
EXPECTED_ROOT_FIELDS = {
    "Query": {"myself", "gpuTypes", "cpuTypes", "cpuFlavors", "dataCenters", "countryCodes", "pod"},
    "Mutation": {
        "updateUserSettings",
        "podFindAndDeployOnDemand",
        "podRentInterruptable",
        "deployCpuPod",
        "podResume",
        "podBidResume",
        "podEditJob",
        "podStop",
        "podTerminate",
        "saveTemplate",
        "deleteTemplate",
        "saveEndpoint",
        "deleteEndpoint",
        "updateEndpointTemplate",
        "saveRegistryAuth",
        "updateRegistryAuth",
        "deleteRegistryAuth",
        "createNetworkVolume",
        "updateNetworkVolume",
        "deleteNetworkVolume",
        "secretCreate",
        "secretDelete",
        "createCluster",
        "deleteCluster",
    },
}


@pytest.fixture(scope="module")
def sdl() -> str:
    return SDL_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def schema(sdl: str) -> GraphQLSchema:
    return build_schema(sdl)


def _parse_file(path: Path) -> DocumentNode:
    return parse(path.read_text(encoding="utf-8"))


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def test_sdl_builds_with_query_and_mutation_roots(schema: GraphQLSchema) -> None:
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    assert schema.description, "the header (schema description) says what the snapshot covers"


def test_sdl_is_in_canonical_printed_form(sdl: str, schema: GraphQLSchema) -> None:
    """A pull or a hand edit must give the same bytes for the same schema, so diffs stay real."""
    assert print_schema(schema) + "\n" == sdl
    assert print_schema(lexicographic_sort_schema(schema)) + "\n" == sdl


def test_sdl_round_trips_through_introspection(sdl: str, schema: GraphQLSchema) -> None:
    """What a server built from this SDL answers to introspection prints back to the file."""
    client_schema = build_client_schema(introspection_from_schema(schema))
    assert print_schema(client_schema) + "\n" == sdl


def test_sdl_has_runpods_root_fields(schema: GraphQLSchema) -> None:
    for root_name, expected in EXPECTED_ROOT_FIELDS.items():
        root = schema.get_type(root_name)
        assert isinstance(root, GraphQLObjectType)
        assert expected <= set(root.fields), expected - set(root.fields)


def test_every_type_has_a_description(schema: GraphQLSchema) -> None:
    undescribed = [
        name
        for name, named_type in schema.type_map.items()
        if not name.startswith("__") and name not in _BUILTIN_SCALARS and not named_type.description
    ]
    assert undescribed == []


_BUILTIN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


@pytest.mark.parametrize("path", OPERATION_FILES, ids=lambda p: p.name)
def test_operation_file_validates_on_its_own(path: Path, schema: GraphQLSchema) -> None:
    errors = validate(schema, _parse_file(path))
    assert [error.message for error in errors] == []


def test_all_operation_files_validate_together(schema: GraphQLSchema) -> None:
    """Codegen reads the folder as one document, so names must not clash across files."""
    combined = "\n".join(path.read_text(encoding="utf-8") for path in OPERATION_FILES)
    errors = validate(schema, parse(combined))
    assert [error.message for error in errors] == []


def test_operations_are_the_expected_named_set() -> None:
    found = {
        path.name: {op.name.value for op in _operations(_parse_file(path)) if op.name}
        for path in OPERATION_FILES
    }
    assert found == EXPECTED_OPERATIONS


def test_operation_and_fragment_names_are_unique() -> None:
    names: Counter[str] = Counter()
    for path in OPERATION_FILES:
        for definition in _parse_file(path).definitions:
            if isinstance(definition, OperationDefinitionNode):
                assert definition.name is not None, f"anonymous operation in {path.name}"
                names[f"operation {definition.name.value}"] += 1
            elif isinstance(definition, FragmentDefinitionNode):
                names[f"fragment {definition.name.value}"] += 1
    assert [name for name, count in names.items() if count > 1] == []


class _LiteralFinder(Visitor):
    """Collects every argument or input-field value that is not a variable, and every default.

    An input object written inline counts as a literal too: operations take whole inputs as
    variables, so the generated methods accept the typed input models.
    """

    def __init__(self) -> None:
        super().__init__()
        self.literals: list[str] = []

    def _check(self, where: str, value: ValueNode) -> None:
        if not isinstance(value, VariableNode):
            self.literals.append(f"{where}: {value.kind}")

    def enter_argument(self, node: ArgumentNode, *_: object) -> None:
        self._check(f"argument {node.name.value}", node.value)

    def enter_object_field(self, node: ObjectFieldNode, *_: object) -> None:
        self._check(f"input field {node.name.value}", node.value)

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: object) -> None:
        if node.default_value is not None:
            self.literals.append(f"default of ${node.variable.name.value}")


@pytest.mark.parametrize("path", OPERATION_FILES, ids=lambda p: p.name)
def test_operations_pass_values_only_as_variables(path: Path) -> None:
    """Values spliced into query text are how the official client breaks on quotes; not here."""
    finder = _LiteralFinder()
    visit(_parse_file(path), finder)
    assert finder.literals == []


def test_literal_finder_catches_spliced_values() -> None:
    """The walk above must see literals nested in input objects, or it proves nothing."""
    finder = _LiteralFinder()
    visit(parse('mutation M($n: String) { podStop(input: {podId: "x", n: $n}) { id } }'), finder)
    assert finder.literals == ["argument input: object_value", "input field podId: string_value"]
