import time

_started = time.time()

from toolkit.cli import main  # noqa: E402
from toolkit.files.phases import mark  # noqa: E402

mark("parent: imports", _started)
main()
