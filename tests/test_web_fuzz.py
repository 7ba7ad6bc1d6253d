"""The web API against its own OpenAPI schema: schemathesis sends generated (valid
and invalid) requests to a real `digitnet serve` on 127.0.0.1, from a browser session
(the page loaded); no answer may be a 5xx, every answer must match the schema (status code,
content type, body), and a request the schema does not allow (an unknown field in a body
among them) must be refused."""

import os
import re

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as sc

from digitnet import Network

from .test_load import live_server

pytestmark = pytest.mark.timeout(300)


@schemathesis.check
def bad_data_rejected(ctx, response, case):
    """schemathesis's negative_data_rejection, knowing one more refusal: 413, which the server gives any
    body over 1 MiB (hardening.py) before reading it, and a fuzzed list of objects can be that large."""
    if response.status_code == 413:
        return None
    return sc.negative_data_rejection(ctx, response, case)


CHECKS = [sc.not_a_server_error, sc.status_code_conformance, sc.content_type_conformance,
          sc.response_schema_conformance, bad_data_rejected]


@pytest.fixture(scope="module")
def web_server(tmp_path_factory, small_mnist):
    # A network needs no training to be fuzzed. A little of MNIST is there so the test-image routes work: the
    # answers to a change score the test images, all 10,000 of which would make each a tenth of a second.
    folder = tmp_path_factory.mktemp("fuzz-server")
    Network((784, 16, 16, 10), "relu", "cross-entropy", seed=0).save(folder / "model.npz")
    with live_server(folder / "model.npz", folder, data=small_mnist,
                     args=["--save-to", str(folder / "saved.npz")]) as running:
        yield running


def without_prefix_items(node):
    """The schema with each tuple (``prefixItems``, valid OpenAPI 3.1) loosened to an
    array of numbers of that length: schemathesis 4 rejects prefixItems when it checks
    responses (schemathesis issues 3842, 4099). The tuples here hold only numbers."""
    if isinstance(node, list):
        return [without_prefix_items(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: without_prefix_items(value) for key, value in node.items()}
    if "prefixItems" in node:
        assert all(item.get("type") in ("integer", "number") for item in node["prefixItems"])
        n = len(node.pop("prefixItems"))
        node.update(items={"type": "number"}, minItems=n, maxItems=n)
    return node


@pytest.fixture(scope="module")
def page_loaded(web_server):
    """A session that has loaded the page, as a browser's has: it may change things."""
    url, _ = web_server
    with requests.Session() as session:
        assert session.get(url + "/", timeout=30).status_code == 200
        yield session


@pytest.fixture(scope="module")
def client(web_server):
    url, _ = web_server
    with httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/").status_code == 200
        yield client


@pytest.fixture(scope="module")
def web_schema(web_server):
    url, _ = web_server
    raw = httpx.get(url + "/openapi.json", timeout=30).json()
    return schemathesis.openapi.from_dict(without_prefix_items(raw))


# POST /api/train would start a real training run for every example (each one a
# minute of CPU), and so would starting an experiment (seconds each, queued behind one
# another); their validation is fuzzed in test_train_request_validation and
# test_experiment_request_validation below. The event streams stay open while they run.
# The teaching routes are fuzzed: a step takes milliseconds.
schema = (schemathesis.pytest.from_fixture("web_schema")
          .exclude(method="POST", path="/api/train")
          .exclude(path="/api/train/events")
          .exclude(method="POST", path_regex=r"^/api/experiments/(memorize|landscape|sigmoid-vs-relu)$")
          .exclude(path="/api/experiments/events"))


@schema.parametrize()
@settings(max_examples=int(os.environ.get("DIGITNET_FUZZ_EXAMPLES", 25)), deadline=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, web_server, page_loaded):
    url, process = web_server
    case.call_and_validate(base_url=url, session=page_loaded, checks=CHECKS, timeout=30)
    assert process.poll() is None


def test_train_request_validation(client):
    """Malformed training requests are refused with 422 (never start anything, never 5xx)."""
    for body in [{"hidden": []}, {"hidden": [0]}, {"hidden": [10**9]}, {"lr": -1}, {"lr": "fast"},
                 {"epochs": 0}, {"batch_size": 10**9}, {"images": 5}, {"activation": "swish"}, [], "text", None]:
        response = client.post("/api/train", json=body)
        assert response.status_code == 422, (body, response.text)
    assert client.get("/api/train").json()["state"] == "idle"


@pytest.mark.parametrize("kind", ["memorize", "landscape", "sigmoid-vs-relu"])
def test_experiment_request_validation(client, kind):
    """Malformed experiment requests are refused with 422 (never start anything, never 5xx)."""
    for body in [{"images": 1}, {"images": 10**9}, {"images": "many"}, {"epochs": 0}, {"steps": 2}, {"extent": -1},
                 {"depths": [0]}, {"seed": -1}, [], "text", None]:
        response = client.post(f"/api/experiments/{kind}", json=body)
        assert response.status_code == 422, (body, response.text)  # another kind's options too: not this one's
    assert client.get("/api/experiments").json()["state"] == "idle"


def json_bodies(spec):
    """(method, path, body schema) of every route that takes a JSON body."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                yield method, path, content["application/json"]["schema"]


def test_every_request_body_refuses_unknown_fields(web_server):
    """A misspelt field is refused, not ignored: PUT /api/neurons/0/3 {"switched_off": true} answered 200 and
    changed nothing. Every JSON body's schema says so (additionalProperties: false), for the fuzzer above too."""
    url, _ = web_server
    spec = httpx.get(url + "/openapi.json", timeout=30).json()
    bodies = list(json_bodies(spec))
    assert len(bodies) >= 10
    page = httpx.Client(base_url=url, timeout=30)  # a visitor with the page loaded: writes need its session
    page.get("/")
    for method, path, schema in bodies:
        name = schema["$ref"].rsplit("/", 1)[1]
        assert spec["components"]["schemas"][name].get("additionalProperties") is False, name
        where = re.sub(r"\{(\w+)\}", lambda m: {"layer": "0", "neuron": "3"}[m[1]], path)
        response = page.request(method.upper(), where, json={"switched_off": True})
        assert response.status_code == 422, (method, path, response.text)
        assert {"loc": ["body", "switched_off"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"} \
            in response.json()["detail"], (method, path)
    page.close()
    with httpx.Client(base_url=url, timeout=30) as visitor:  # one visitor: the session's cookie is kept
        visitor.get("/")
        assert visitor.put("/api/neurons/0/3", json={"bias_shift": 5, "switched_off": True}).status_code == 422
        assert visitor.get("/api/neurons/0/3").json()["bias_shift"] == 0  # nothing changed
        assert visitor.put("/api/neurons/0/3", json={"bias_shift": 5}).status_code == 200
        assert visitor.get("/api/neurons/0/3").json()["bias_shift"] == 5
