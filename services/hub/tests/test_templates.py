"""Route templates: what a registration may declare and what a request path matches."""

import pytest

from skyras_hub import templates
from skyras_hub.models import AgentPublic
from skyras_hub.registry import compile_agent, resolve


@pytest.mark.parametrize(
    "template",
    [
        "tasks",
        "/tasks/",
        "/a//b",
        "/../etc",
        "/a/./b",
        "/a/%2e%2e",
        "/t/{id",
        "/t/x{id}",
        "/t/{1d}",
        "/t/{id}/{id}",
        "/t?x=1",
        "/t#f",
        "/sp ace",
    ],
)
def test_invalid_templates_are_rejected(template: str) -> None:
    with pytest.raises(templates.TemplateError):
        templates.parse_template(template)


def _agent(*routes: tuple[str, list[str], str]) -> AgentPublic:
    return AgentPublic.model_validate(
        {
            "name": "a",
            "endpoint": "http://127.0.0.1:1",
            "routes": [{"path": p, "methods": m, "target": t} for p, m, t in routes],
            "registered_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
        }
    )


def test_a_parameter_matches_exactly_one_segment() -> None:
    agent = compile_agent(_agent(("/tasks/{id}", ["GET"], "/api/tasks/{id}")))
    assert resolve(agent, "/tasks/42", "GET").target == "/api/tasks/42"
    assert resolve(agent, "/tasks/4%2F2", "GET").target == "/api/tasks/4%2F2"
    assert resolve(agent, "/tasks/4/2", "GET").route is None
    assert resolve(agent, "/tasks/", "GET").route is None
    assert resolve(agent, "/tasks/..", "GET").route is None
    assert resolve(agent, "/tasks/%2E%2E", "GET").route is None


def test_a_literal_segment_wins_over_a_parameter_whatever_the_order() -> None:
    agent = compile_agent(
        _agent(
            ("/tasks/{id}", ["GET"], "/api/tasks/{id}"), ("/tasks/search", ["GET"], "/api/search")
        )
    )
    assert resolve(agent, "/tasks/search", "GET").target == "/api/search"
    assert resolve(agent, "/tasks/7", "GET").target == "/api/tasks/7"


def test_a_known_path_with_another_method_lists_the_allowed_methods() -> None:
    agent = compile_agent(
        _agent(("/tasks", ["GET"], "/api/tasks"), ("/tasks", ["POST"], "/api/tasks/new"))
    )
    assert resolve(agent, "/tasks", "POST").target == "/api/tasks/new"
    assert resolve(agent, "/tasks", "DELETE").allowed == ("GET", "POST")
