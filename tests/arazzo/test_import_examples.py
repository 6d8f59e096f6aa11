"""`runner import arazzo` on the examples published with the Arazzo specification
(tests/data/arazzo/, copied from OAI/Arazzo-Specification): each converts, every playbook it
writes passes `runner validate`, and the list of what it could not map is exactly this."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from runner import api
from runner.errors import InvalidInput, PlaybookError
from tests.helpers import cli

DATA = Path(__file__).resolve().parent.parent / "data" / "arazzo"
LOCAL = DATA / "local"

WF_STATUS = ("successCriteria '$statusCode == 200' on a workflow step: an included playbook "
             "passes or fails as a whole (left out)")
IN_ORDER = "a playbook runs its steps in order and stops at the first failure"
JSONPATH = ("successCriteria '$[?@.access_token != null]' of type jsonpath: only simple "
            "conditions become asserts (left out)")

EXAMPLES = {
    "pet-coupons.arazzo.yaml": ({}, {
        "apply-coupon.yaml", "buy-available-pet.yaml", "place-order.yaml"}, [
        "workflow apply-coupon step find-coupons: path parameter petId of GET "
        "/pet/{petId}/coupons is given no value (it is sent as written)",
        f"workflow apply-coupon step place-order: {WF_STATUS}",
        f"workflow buy-available-pet step place-order: {WF_STATUS}"]),
    "oauth.arazzo.yaml": ({}, {
        "refresh-token-flow.yaml", "client-credentials-flow.yaml",
        "authorization-code-flow.yaml"}, [
        f"workflow refresh-token-flow step do-the-refresh: {JSONPATH}",
        f"workflow client-credentials-flow step get-client-creds-token: {JSONPATH}"]),
    "FAPI-PAR.arazzo.yaml": ({}, {"OIDC-PAR-AuthzCode.yaml"}, [
        # the example names PAR; its OpenAPI document's operationId is Par
        "workflow OIDC-PAR-AuthzCode step PARStep: operation $sourceDescriptions.auth-api.PAR: "
        "no operationId PAR in auth-api (the step is left out)",
        "workflow OIDC-PAR-AuthzCode step AuthzCodeStep: parameter request_uri: "
        "$steps.PARStep.outputs.request_uri: no earlier step PARStep (left out)"]),
    "bnpl-arazzo.yaml": ({"BnplApi": str(DATA / "bnpl-openapi.yaml")},
                         {"ApplyForLoanAtCheckout.yaml"}, [
        *(f"workflow ApplyForLoanAtCheckout step {step}: onSuccess action {name} ({kind})"
          f"{' to ' + to if to else ''}: {IN_ORDER}" for step, name, kind, to in [
            ("checkLoanCanBeProvided", "existingCustomerNotEligible", "end", ""),
            ("checkLoanCanBeProvided", "qualifyingProductsFound", "goto",
             "getCustomerTermsAndConditions"),
            ("checkLoanCanBeProvided", "qualifyingProductsNotFound", "end", ""),
            ("getCustomerTermsAndConditions", "eligibilityCheckRequired", "goto",
             "createCustomer"),
            ("getCustomerTermsAndConditions", "eligibilityCheckNotRequired", "goto",
             "initiateBnplTransaction"),
            ("createCustomer", "customerIsEligible", "goto", "initiateBnplTransaction"),
            ("createCustomer", "customerIsNotEligible", "end", ""),
            ("initiateBnplTransaction", "CustomerAuthorizationRequired", "goto",
             "authenticateCustomerAndAuthorizeLoan"),
            ("initiateBnplTransaction", "CustomerAuthorizationNotRequired", "goto",
             "retrieveFinalizedPaymentPlan")]),
        # the example's own slips: a step reading its own output, an output never declared
        "workflow ApplyForLoanAtCheckout step authenticateCustomerAndAuthorizeLoan: parameter "
        "redirectAuthToken: $steps.authenticateCustomerAndAuthorizeLoan.outputs."
        "redirectAuthToken: no earlier step authenticateCustomerAndAuthorizeLoan (left out)",
        "workflow ApplyForLoanAtCheckout step retrieveFinalizedPaymentPlan: parameter "
        "loanTransactionId: $steps.initiateBnplTransaction.outputs.loanTransactionId: step "
        "initiateBnplTransaction has no output loanTransactionId (left out)",
        "workflow ApplyForLoanAtCheckout step retrieveFinalizedPaymentPlan: path parameter "
        "loanTransactionId of GET /loan-transactions/{loanTransactionId} is given no value "
        "(it is sent as written)",
        "workflow ApplyForLoanAtCheckout step updateOrderStatus: parameter loanTransactionId: "
        "$steps.initiateBnplTransaction.outputs.loanTransactionId: step "
        "initiateBnplTransaction has no output loanTransactionId (left out)",
        "workflow ApplyForLoanAtCheckout step updateOrderStatus: path parameter "
        "loanTransactionId of PATCH /loan-transactions/{loanTransactionId}/status is given no "
        "value (it is sent as written)",
        "workflow ApplyForLoanAtCheckout: output finalizedPaymentPlan: "
        "$steps.retrieveFinalizedPaymentPlan.finalizedPaymentPlan is not mapped to a playbook "
        "expression (left out)"]),
    "LoginAndRetrievePets.arazzo.yaml": (
        {"petStoreDescription": str(LOCAL / "petstore-subset.openapi.yaml")},
        {"loginUserRetrievePet.yaml"}, []),
    "ExtendedParametersExample.arazzo.yaml": (
        {"animals": str(LOCAL / "animals.openapi.yaml")}, {"animal-workflow.yaml"}, []),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_published_example_converts_and_validates(name: str, tmp_path: Path) -> None:
    sources, files, not_mapped = EXAMPLES[name]
    done = api.import_arazzo(DATA / name, tmp_path, sources=sources)
    assert {p.name for p in done.written} == files
    assert done.not_mapped == not_mapped
    assert api.validate(done.written, root=tmp_path)  # as `runner validate` loads them
    for path in done.written:  # and each says, at its top, what of it was not mapped
        head = [line for line in path.read_text().splitlines() if line.startswith("#   - ")]
        assert head == [f"#   - {line}" for line in not_mapped
                        if line.startswith((f"workflow {path.stem} ", f"workflow {path.stem}:"))]


def test_the_mapping_of_a_workflow(tmp_path: Path) -> None:
    """pet-coupons' buy-available-pet: parameters from components, an include of the
    reused workflow with its outputs, typed inputs."""
    api.import_arazzo(DATA / "pet-coupons.arazzo.yaml", tmp_path, sources={})
    book = yaml.safe_load((tmp_path / "buy-available-pet.yaml").read_text())
    find, order = book["steps"]
    assert find["method"] == "GET" and find["path"] == "/pet/findByStatus"
    assert find["query"] == {"status": "available", "page": 1, "pageSize": 10}
    assert find["extract"] == {"my_pet_id": "$[0].id"}
    assert find["assert"][0]["that"] == "response.status_code == 200"
    assert order == {"id": "place_order", "name": "Place an order for the pet.",
                     "include": "place-order.yaml",
                     "with": {"pet_id": "{{ steps.find_pet.my_pet_id }}"}}
    assert book["outputs"] == {"buy_pet_order_id": "{{ place_order.workflow_order_id }}"}
    placed = yaml.safe_load((tmp_path / "place-order.yaml").read_text())
    assert placed["inputs"]["pet_id"] == {"type": "integer", "required": False,
                                         "description": "The ID of the pet to place in the order."}
    env = yaml.safe_load((tmp_path / "environment.yaml").read_text())
    assert env["connectors"] == {"pet_coupons": {"base_url": {"env": "PET_COUPONS_URL"}}}


def test_workflow_parameters_and_cookies(tmp_path: Path) -> None:
    api.import_arazzo(DATA / "ExtendedParametersExample.arazzo.yaml", tmp_path,
                      sources={"animals": str(LOCAL / "animals.openapi.yaml")})
    post, get = yaml.safe_load((tmp_path / "animal-workflow.yaml").read_text())["steps"]
    assert post["headers"] == {"workflowLevelParamTwo": "someValue",
                               "Cookie": "workflowLevelParamOne=someValue; "
                                         "authentication=SUPER_SECRET"}
    assert get["headers"]["Cookie"] == "workflowLevelParamOne=someValue"


def test_a_source_given_by_url_needs_a_local_copy(tmp_path: Path) -> None:
    run = cli("import", "arazzo", str(DATA / "LoginAndRetrievePets.arazzo.yaml"),
              "--out", str(tmp_path))
    assert run.returncode == 2, run.stderr
    assert "LoginAndRetrievePets.arazzo.yaml:10:8: source petStoreDescription is https://" \
           in run.stderr
    assert "runner import reads local files only" in run.stderr
    assert "hint: download it and give it: --source petStoreDescription=FILE" in run.stderr
    assert "Traceback" not in run.stderr and not list(tmp_path.iterdir())


def test_the_command_line(tmp_path: Path) -> None:
    run = cli("import", "arazzo", str(DATA / "oauth.arazzo.yaml"), "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert f"wrote: {tmp_path / 'refresh-token-flow.yaml'}" in run.stdout
    assert "not mapped (2; also listed at the top of each playbook):" in run.stdout
    checked = cli("validate", *map(str, sorted(tmp_path.glob("*-flow.yaml"))))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    again = cli("import", "arazzo", str(DATA / "oauth.arazzo.yaml"), "--out", str(tmp_path))
    assert again.returncode == 2 and "exists; nothing was written" in again.stderr
    assert "--force" in again.stderr
    forced = cli("import", "arazzo", str(DATA / "oauth.arazzo.yaml"), "--out", str(tmp_path),
                 "--force")
    assert forced.returncode == 0, forced.stderr
    bad = cli("import", "arazzo", str(DATA / "oauth.arazzo.yaml"), "--source", "nope")
    assert bad.returncode == 2 and "write NAME=FILE" in bad.stderr


def test_errors_a_user_can_cause(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match=r"not an Arazzo 1\.x document"):
        api.import_arazzo(DATA / "oauth.openapi.yaml", tmp_path, sources={})
    with pytest.raises(PlaybookError, match="--source nope: the document has no source named"):
        api.import_arazzo(DATA / "oauth.arazzo.yaml", tmp_path, sources={"nope": "x.yaml"})
    with pytest.raises(PlaybookError, match=r"source animals: .*animals\.yaml is not a file"):
        api.import_arazzo(DATA / "ExtendedParametersExample.arazzo.yaml", tmp_path, sources={})
    api.import_arazzo(DATA / "oauth.arazzo.yaml", tmp_path, sources={})
    with pytest.raises(InvalidInput, match="exists; nothing was written"):
        api.import_arazzo(DATA / "oauth.arazzo.yaml", tmp_path, sources={})
