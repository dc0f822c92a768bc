"""Outbound campaigns: campaign files, calling windows and holidays, the
do-not-call list, the scheduler on the call clock, the ``Dialer`` seam,
answering-machine detection, and the actions the outbound flows call."""
from ivr.outbound.amd import AmdConfig, AmdResult, AnsweringMachineDetector, detect
from ivr.outbound.calling_hours import CallingCalendar, read_holidays
from ivr.outbound.campaign import Campaign, CampaignError, CampaignSpec, check, load_campaign
from ivr.outbound.contacts import CampaignContact, DoNotCall, read_contacts
from ivr.outbound.dialer import Dialer, DialOutcome, DialRequest, DialResult, FakeDialer
from ivr.outbound.scheduler import Attempt, CampaignReport, CampaignRun

__all__ = ["AmdConfig", "AmdResult", "AnsweringMachineDetector", "Attempt", "Campaign", "CampaignContact",
           "CampaignError", "CampaignReport", "CampaignRun", "CampaignSpec", "CallingCalendar", "DialOutcome",
           "DialRequest", "DialResult", "Dialer", "DoNotCall", "FakeDialer", "check", "detect", "load_campaign",
           "read_contacts", "read_holidays"]
