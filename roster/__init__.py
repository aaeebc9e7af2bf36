"""roster: the domain of weekly rostering for children's home care and community support.

Importing ``roster`` never imports the solver (ortools) or the web stack (streamlit).
"""

from roster.calendar import Clock, bank_holidays_in_week
from roster.errors import DataWarning, InstanceError, Problem, UnknownIdError
from roster.model import (
    Absence,
    Assignment,
    Availability,
    Carer,
    Child,
    History,
    Instance,
    Rota,
    Settings,
    Training,
    Travel,
    Unassigned,
    Visit,
    Window,
)
from roster.travel import TravelModel

__all__ = [
    "Absence",
    "Assignment",
    "Availability",
    "Carer",
    "Child",
    "Clock",
    "DataWarning",
    "History",
    "Instance",
    "InstanceError",
    "Problem",
    "Rota",
    "Settings",
    "Training",
    "Travel",
    "TravelModel",
    "Unassigned",
    "UnknownIdError",
    "Visit",
    "Window",
    "bank_holidays_in_week",
]
