"""Scenario 5, big responses: one extraction from a 20 MB JSON list and from a 20 MB XML list.

JSON: the suite's own loopback server (``bench/loopback.py``) serves ``{"data": {"items":
[...]}}`` of about 20 MB; ``bench/playbooks/big-json.yaml`` fetches it with a raw call and
extracts one item's name with a JSONPath filter over the whole list.

XML: the MOR simulator with ``big_devices=N`` answers ``devices_get`` with about 20 MB of XML,
gzipped. Through the mor connector when it is installed (the vendor's raw gzip), otherwise
``bench/playbooks/big-xml-raw.yaml``, a raw signed POST (the simulator then sends
``Content-Encoding: gzip``, which a generic connector decodes). One XPath over the document.

Baselines on the same bodies, in the same process: the body already in memory parsed with
``json.loads`` / ``lxml.etree.fromstring`` and the same lookup in Python ("direct"), and the
same request with ``requests`` then the same parse ("requests"). Times are medians of ``reps``
interleaved rounds in the scenario's process. Peak memory is measured once per variant in a
fresh process (``python -m bench.big_responses CONFIG VARIANT``): its ``VmHWM`` after the
variant minus the RSS before it, the servers staying in the scenario's process, because in a
process whose heap earlier variants grew, the next one's peak hides.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import PLAYBOOKS, ROOT, Outcome, log, median, private_store, rounds, timed

JSON_ITEMS = 164_000  # about 20 MB
XML_DEVICES = 80_500  # about 20 MB of XML
WANTED_ITEM = f"item{JSON_ITEMS - 1:06d}"
WANTED_DEVICE = f"big{XML_DEVICES - 1}"

_XML_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False}


def json_body(n: int) -> bytes:
    departments = ("DEV", "OPS", "HR")
    items = [{"id": f"item{i:06d}", "name": f"Device item{i:06d}",
              "department": departments[i % 3], "serial": f"SN-{i * 7919:012d}",
              "ip": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"} for i in range(n)]
    return json.dumps({"status": True, "data": {"items": items}}).encode()


def find_item(data: Any) -> str:
    found = [x["name"] for x in data["data"]["items"] if x["id"] == WANTED_ITEM]
    if found != [f"Device {WANTED_ITEM}"]:
        raise AssertionError(found)
    return found[0]


def find_device(xml: bytes) -> str:
    from lxml import etree

    root = etree.fromstring(xml, parser=etree.XMLParser(**_XML_PARSER_OPTIONS))
    found = root.xpath(f"/page/devices/device[username = '{WANTED_DEVICE}']/device_id/text()")
    if len(found) != 1:
        raise AssertionError(found)
    return str(found[0])


class Servers:
    """The server side, in the scenario's process: the bodies, the loopback server, MOR."""

    def __init__(self, box: Any, server: Any, use_mor_connector: bool, tmp: Path) -> None:
        from runner.builtin.mor.simulator import MorSimulator, compute_hash

        body = json_body(JSON_ITEMS)
        json_url = server.serve("/items", body)
        # the vendor's raw gzip with the mor connector; Content-Encoding for a generic one
        self.mor = MorSimulator(big_devices=XML_DEVICES,
                                gzip_mode="raw" if use_mor_connector else "header")
        self.mor.start()
        box.simulators["mor"] = self.mor  # the sandbox uses it as it is (and stops it)
        form = {"u": self.mor.username, "user_id": "100",
                "hash": compute_hash("devices_get", {"user_id": "100"}, self.mor.api_secret)}
        mor_url = self.mor.url + "/devices_get"
        gz = _fetch(mor_url, form)  # also fills the simulator's cache, before any timing
        self.xml_bytes = len(gzip.decompress(gz))
        (tmp / "body.json").write_bytes(body)
        (tmp / "body.xml.gz").write_bytes(gz)
        playbook = tmp / "big-xml-mor.yaml"
        if use_mor_connector:
            playbook.write_text(MOR_PLAYBOOK)
        self.target = {
            "json_url": json_url, "mor_url": mor_url, "mor_form": form,
            "mor_settings": self.mor.connector_settings(), "use_mor_connector": use_mor_connector,
            "mor_playbook": str(playbook), "body_file": str(tmp / "body.json"),
            "gz_file": str(tmp / "body.xml.gz"),
        }
        self.sizes = {"json_bytes": len(body), "xml_bytes": self.xml_bytes,
                      "xml_gzip_bytes": len(gz)}


def _fetch(url: str, form: dict[str, str]) -> bytes:
    import urllib3

    r = urllib3.PoolManager().request("POST", url, fields=form, encode_multipart=False,
                                      decode_content=False)
    return bytes(r.data)


class Client:
    """The variants, given where the servers are (``Servers.target``) and a sandbox."""

    def __init__(self, target: dict[str, Any], box: Any) -> None:
        self.t = target
        self.box = box
        self.body = b""
        self.gz = b""

    def load(self, variant: str) -> None:
        """Read the body a "direct" variant parses (before anything is measured)."""
        if variant == "json direct":
            self.body = Path(self.t["body_file"]).read_bytes()
        elif variant == "xml direct":
            self.gz = Path(self.t["gz_file"]).read_bytes()

    def variants(self) -> dict[str, Any]:
        return {"json direct": self.json_direct, "json requests": self.json_requests,
                "json runner": self.json_runner, "xml direct": self.xml_direct,
                "xml requests": self.xml_requests, "xml runner": self.xml_runner}

    # -- JSON ------------------------------------------------------------------------------
    def json_direct(self) -> None:
        find_item(json.loads(self.body))

    def json_requests(self) -> None:
        import requests

        find_item(requests.get(self.t["json_url"], timeout=60).json())

    def json_runner(self) -> None:
        from runner import api

        r = api.run(PLAYBOOKS / "big-json.yaml", env="sandbox", quiet=True, sandbox=self.box,
                    inputs={"url": self.t["json_url"], "wanted": WANTED_ITEM})
        if r.status != "passed":
            raise AssertionError(r.error)

    # -- XML -------------------------------------------------------------------------------
    def xml_direct(self) -> None:
        find_device(gzip.decompress(self.gz))

    def xml_requests(self) -> None:
        import requests

        r = requests.post(self.t["mor_url"], data=self.t["mor_form"], timeout=60)
        content = r.content
        if content[:2] == b"\x1f\x8b":  # the vendor's raw gzip: no Content-Encoding
            content = gzip.decompress(content)
        find_device(content)

    def xml_runner(self) -> None:
        from runner import api

        if self.t["use_mor_connector"]:
            r = api.run(self.t["mor_playbook"], env="sandbox", quiet=True, sandbox=self.box,
                        inputs={"wanted": WANTED_DEVICE})
        else:
            form = self.t["mor_form"]
            r = api.run(PLAYBOOKS / "big-xml-raw.yaml", env="sandbox", quiet=True,
                        sandbox=self.box,
                        inputs={"url": self.t["mor_url"], "u": form["u"],
                                "hash": form["hash"], "wanted": WANTED_DEVICE})
        if r.status != "passed":
            raise AssertionError(r.error)


class RemoteSimulator:
    """Stands in a Sandbox for a simulator served by another process (the scenario's)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    def start(self) -> None: ...
    def stop(self) -> None: ...

    def connector_settings(self) -> dict[str, Any]:
        return dict(self.settings)

    def secret_values(self) -> list[str]:
        return [str(v) for k, v in self.settings.items() if "secret" in k]


def child_memory(config: Path, variant: str) -> dict[str, Any]:
    """In a fresh process: the peak RSS one variant adds (``VmHWM`` minus the RSS before).

    A fresh process, because a heap that earlier variants grew hides the next one's peak.
    """
    import lxml.etree  # noqa: F401  (everything imported before the baseline)
    import requests  # noqa: F401
    from jsonpath_ng.ext import parse  # noqa: F401

    from bench import hwm_mb, rss_mb, trim_memory
    from runner import api  # noqa: F401
    from runner.sandbox import Sandbox

    target = json.loads(config.read_text())
    with Sandbox() as box:
        box.start(["automatos"])
        if target["use_mor_connector"]:
            box.simulators["mor"] = RemoteSimulator(target["mor_settings"])
        client = Client(target, box)
        client.load(variant)
        trim_memory()
        before, high_before = rss_mb(), hwm_mb()
        seconds, _ = timed(client.variants()[variant])
        peak = hwm_mb()
    return {"variant": variant, "peak_mb": peak - before, "rss_before_mb": before,
            "maxrss_before_mb": high_before, "seconds_cold": seconds}


def memory_in_child(config: Path, variant: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "bench.big_responses", str(config), variant],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"memory child for {variant} failed: {proc.stderr[-1000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


MOR_PLAYBOOK = """\
name: Big XML answer benchmark (mor connector)
inputs:
  wanted: {type: string}
connectors:
  mor: {use: mor}
steps:
  - id: fetch
    call: mor.devices_get
    with: {user_id: "100"}
    extract:
      device_id: "/page/devices/device[username = '{{ inputs.wanted }}']/device_id/text()"
  - assert:
      - that: "device_id | length > 0"
"""


def mor_connector_usable(tmp: Path) -> tuple[bool, str]:
    """Whether the mor connector is installed and takes this suite's playbook."""
    try:
        from runner.playbook import load_playbook

        path = tmp / "probe.yaml"
        path.write_text(MOR_PLAYBOOK)
        load_playbook(path)
        return True, "mor connector (connector.yaml), vendor's raw gzip"
    except Exception as e:  # not installed yet, or another shape of devices_get
        return False, f"raw POST via the automatos connector (mor connector: {str(e)[:160]})"


def run(opts: Any) -> Outcome:
    from bench.loopback import LoopbackServer
    from runner.sandbox import Sandbox

    out = Outcome("big_responses", "one extraction from a 20 MB JSON list / 20 MB XML list")
    reps = 2 if opts.quick else 3
    memory: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-big-") as tmp, private_store(Path(tmp)), \
            LoopbackServer() as server, Sandbox() as box:
        use_mor, how = mor_connector_usable(Path(tmp))
        log(f"big_responses: building the bodies; XML through {how}")
        servers = Servers(box, server, use_mor, Path(tmp))
        box.start(["automatos"])
        client = Client(servers.target, box)
        for name in ("json direct", "xml direct"):
            client.load(name)
        variants = client.variants()
        for fn in variants.values():  # warm-up: imports, connections, compiled expressions
            fn()
        log(f"big_responses: time, {reps} interleaved rounds")
        times = rounds(variants, reps)
        client.body = client.gz = b""
        config = Path(tmp) / "target.json"
        config.write_text(json.dumps(servers.target))
        for name in variants:
            log(f"big_responses: peak memory of {name}, in a fresh process")
            memory[name] = memory_in_child(config, name)
        sizes = servers.sizes
    med_t = {k: median(v) for k, v in times.items()}
    mem = {k: v["peak_mb"] for k, v in memory.items()}
    out.add("JSON size", sizes["json_bytes"] / 1e6, "MB")
    out.add("XML size", sizes["xml_bytes"] / 1e6, "MB")
    out.add("XML size gzipped (on the wire)", sizes["xml_gzip_bytes"] / 1e6, "MB")
    for kind in ("json", "xml"):
        for who in ("direct", "requests", "runner"):
            name = f"{kind} {who}"
            out.add(f"{name}: time", med_t[name], "s")
            out.add(f"{name}: peak memory", mem[name], "MB")
        out.add(f"{kind}: runner / direct time", med_t[f"{kind} runner"] / med_t[f"{kind} direct"],
                "x")
        out.add(f"{kind}: runner / requests time",
                med_t[f"{kind} runner"] / med_t[f"{kind} requests"], "x")
        out.add(f"{kind}: runner / direct peak memory",
                mem[f"{kind} runner"] / max(mem[f"{kind} direct"], 0.1), "x")
        out.add(f"{kind}: runner / requests peak memory",
                mem[f"{kind} runner"] / max(mem[f"{kind} requests"], 0.1), "x")
    out.details = {
        **sizes, "json_items": JSON_ITEMS, "xml_devices": XML_DEVICES, "xml_route": how,
        "repetitions": reps,
        "seconds": {k: [round(t, 4) for t in v] for k, v in times.items()},
        "memory": {k: {kk: round(vv, 3) if isinstance(vv, float) else vv
                       for kk, vv in v.items()} for k, v in memory.items()},
        "memory_method": "one fresh process per variant: VmHWM after minus RSS before "
                         "(servers in the scenario's process, not in the measured one)",
        "jsonpath": "$.data.items[?(@.id == '<last item>')].name",
        "xpath": "/page/devices/device[username = '<last device>']/device_id/text()",
    }
    return out


if __name__ == "__main__":  # a memory child: python -m bench.big_responses CONFIG VARIANT
    print(json.dumps(child_memory(Path(sys.argv[1]), sys.argv[2])))
