from __future__ import annotations

import pytest

from runner.template_compile import TemplateFailure, compile_template
from runner.templating import SECRET_INPUTS, Renderer


def test_single_expression_keeps_native_type() -> None:
    r = Renderer()
    assert r.render("{{ xs }}", {"xs": [1, 2]}) == [1, 2]
    assert r.render("{{ n + 1 }}", {"n": 41}) == 42
    assert r.render("n={{ n }}", {"n": 41}) == "n=41"
    assert r.render({"a": ["{{ n }}", "x"]}, {"n": 1}) == {"a": [1, "x"]}


def test_undefined_names_fail_with_the_name() -> None:
    with pytest.raises(TemplateFailure) as info:
        Renderer().render("{{ machine_id }}", {})
    assert info.value.name == "machine_id"
    assert "undefined variable 'machine_id'" in str(info.value)


def test_compiled_templates_are_cached() -> None:
    assert compile_template("a {{ b }}") is compile_template("a {{ b }}")


def test_values_from_responses_are_never_rendered() -> None:
    # an API answer carrying a template stays inert text
    hostile = "{{ 7 * 7 }}{% for x in range(10**9) %}{% endfor %}"
    assert Renderer().render("{{ body }}", {"body": hostile}) == hostile
    assert Renderer().render("got {{ body }}", {"body": hostile}) == f"got {hostile}"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__ }}",
    "{{ x.__globals__ }}",
    "{{ x['__class__'] }}",
    "{{ x._private }}",
])
def test_private_attributes_are_refused_when_compiled(source: str) -> None:
    with pytest.raises(TemplateFailure, match="private attribute"):
        compile_template(source)


def test_sandbox_refuses_unsafe_calls_at_run_time() -> None:
    with pytest.raises(TemplateFailure, match=r"sandbox|unsafe|not safely"):
        Renderer().render("{{ f.mro() }}", {"f": int})


def test_templates_reading_secrets_register_their_result() -> None:
    seen: list[str] = []
    r = Renderer(on_secret=seen.append)
    out = r.render("Basic {{ secrets.key | b64encode }}", {"secrets": {"key": "s3cr3t-value"}})
    assert out == "Basic czNjcjN0LXZhbHVl"
    assert seen == ["czNjcjN0LXZhbHVl"]  # the part that reads the secret, not the whole text
    assert r.render("{{ secrets.key[:4] | upper }}", {"secrets": {"key": "s3cr3t"}}) == "S3CR"
    assert seen[-1] == "S3CR"


def test_secret_inputs_are_tracked_like_secrets() -> None:
    seen: list[str] = []
    r = Renderer(on_secret=seen.append)
    ctx = {"inputs": {"pw": "hunter22", "user": "ann", "pin": 4711},
           SECRET_INPUTS: frozenset({"pw", "pin"})}
    assert r.render("{{ inputs.pw | b64encode }}", ctx) == "aHVudGVyMjI="
    assert r.render("{{ inputs['pw'] | upper }}", ctx) == "HUNTER22"
    assert r.render("{{ inputs.pin * 2 }}", ctx) == 9422
    assert seen == ["aHVudGVyMjI=", "HUNTER22", "9422"]
    assert r.render("{{ inputs.user | upper }}", ctx) == "ANN"  # not a secret input
    assert r.render("{{ inputs.pw | b64encode }}", {**ctx, SECRET_INPUTS: frozenset()}) \
        == "aHVudGVyMjI="  # a scope whose pw is not secret (another playbook's)
    assert seen == ["aHVudGVyMjI=", "HUNTER22", "9422"]
    # inputs read whole, or by a computed key: possibly a secret one
    assert r.render("{{ inputs | dictsort | first | last }}", ctx) == 4711
    key = "pw"
    assert r.render("{{ inputs[k] ~ '!' }}", {**ctx, "k": key}) == "hunter22!"
    assert seen[-2:] == ["4711", "hunter22!"]


def test_a_text_registers_only_its_secret_parts_unless_one_is_too_short() -> None:
    seen: list[str] = []
    r = Renderer(on_secret=seen.append)
    ctx = {"inputs": {"pw": "hunter22"}, "code": 401, SECRET_INPUTS: {"pw"}}
    assert r.render("as {{ inputs.pw | upper }} got {{ code }}", ctx) == "as HUNTER22 got 401"
    assert seen == ["HUNTER22"]
    assert r.render("{{ inputs.pw[:2] }}-{{ inputs.pw[2:] }}", ctx) == "hu-nter22"
    assert seen[-1] == "hu-nter22"  # "hu" alone could not be masked: the whole text is
    assert r.render("{% for c in inputs.pw %}{{ c }}.{% endfor %}", ctx).startswith("h.u.")
    assert seen[-1] == "h.u.n.t.e.r.2.2."  # blocks: the parts mean nothing alone
