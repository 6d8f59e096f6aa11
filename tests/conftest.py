from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# every run the suite makes is recorded in a store of its own, never in the user's
os.environ["RUNNER_STORE"] = os.path.join(tempfile.mkdtemp(prefix="runner-test-"), "runs.db")
