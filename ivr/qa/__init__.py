"""QA replay of recorded callers: scenario files, the runner over the real
call session, JUnit and HTML reports, and turning stored calls into scenarios."""
from ivr.asr.scoring import cer
from ivr.qa.html_report import render_html, write_html
from ivr.qa.junit import junit_xml, write_junit
from ivr.qa.loader import ScenarioError, find_scenario_files, load_scenario, load_scenarios, parse_scenario
from ivr.qa.record import record_to_scenario
from ivr.qa.results import RunSummary, ScenarioResult, TurnResult, replay_differences
from ivr.qa.runner import Resources, RunOptions, run_scenario, run_scenarios
from ivr.qa.scenario import CallExpect, HandoffExpect, Scenario, Turn, TurnExpect

__all__ = [
    "CallExpect", "HandoffExpect", "Resources", "RunOptions", "RunSummary", "Scenario", "ScenarioError",
    "ScenarioResult", "Turn", "TurnExpect", "TurnResult", "cer", "find_scenario_files", "junit_xml",
    "load_scenario", "load_scenarios", "parse_scenario", "record_to_scenario", "render_html",
    "replay_differences", "run_scenario", "run_scenarios", "write_html", "write_junit",
]
