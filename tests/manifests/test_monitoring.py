"""The monitoring package (issue 20): the PrometheusRule of
k8s/components/prometheus-rules holds exactly the groups of the plain rules
file, the dashboard ConfigMap is labelled for Grafana's sidecar and holds the
dashboard, and every alert has a severity, a summary, a description and a
runbook_url naming a section of docs/runbook.md that exists. promtool's own
checks and the alert unit tests run in tests/monitoring/run.sh."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import yaml

from conftest import rendered
from mcheck.render import ROOT

RULES = ROOT / "monitoring" / "prometheus" / "todo-workers.rules.yaml"
DASHBOARD = ROOT / "monitoring" / "grafana" / "todo-workers.json"
RUNBOOK = ROOT / "docs" / "runbook.md"


def _plain_groups():
    return yaml.safe_load(RULES.read_text())["groups"]


def _alerts():
    return [r for g in _plain_groups() for r in g["rules"] if "alert" in r]


def test_generated_files_are_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "monitoring" / "generate.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_the_prometheus_rule_holds_the_plain_rules_unchanged():
    rule = next(o for o in rendered("joint-monitoring") if o["kind"] == "PrometheusRule")
    assert rule["metadata"]["namespace"] == "todo"
    assert rule["spec"]["groups"] == _plain_groups()


def test_the_dashboard_config_map_is_labelled_for_grafana_and_holds_the_dashboard():
    maps = [o for o in rendered("joint-monitoring")
            if o["kind"] == "ConfigMap" and (o["metadata"].get("labels") or {}).get("grafana_dashboard") == "1"]
    assert len(maps) == 1
    (data,) = maps[0]["data"].values()
    assert json.loads(data) == json.loads(DASHBOARD.read_text())


def test_the_other_overlays_do_not_need_prometheus_operator():
    for overlay in ("joint", "split", "split-keda"):
        assert not any(o["kind"] == "PrometheusRule" for o in rendered(overlay))


def test_every_alert_has_severity_summary_description_and_an_existing_runbook_section():
    anchors = {
        re.sub(r"[^a-z0-9 _-]", "", line[3:].strip().lower()).replace(" ", "-")
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("## ")
    }
    assert len(_alerts()) >= 9
    for alert in _alerts():
        name = alert["alert"]
        assert alert["labels"]["severity"] in {"critical", "warning"}, name
        notes = alert["annotations"]
        assert notes["summary"] and notes["description"], name
        page, _, anchor = notes["runbook_url"].partition("#")
        assert page == "docs/runbook.md", name
        assert anchor in anchors, f"{name}: no section #{anchor} in docs/runbook.md"


def test_each_runbook_section_names_a_table_or_query_log_lines_and_what_to_do():
    sections = re.split(r"^## ", RUNBOOK.read_text(), flags=re.M)[1:]
    by_name = {s.split("\n", 1)[0].strip(): s for s in sections}
    for alert in _alerts():
        text = by_name[alert["alert"]]
        assert "**Means**" in text, alert["alert"]
        assert "**Do**" in text, alert["alert"]
        assert "**Look" in text, alert["alert"]
