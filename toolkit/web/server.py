"""`brandkit serve`: bind 127.0.0.1 on a free port, print the one-time address, open the browser, serve
until Ctrl-C (uvicorn's own handling: requests in flight finish, then it stops)."""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

from toolkit.core.errors import UsageProblem

HOST = "127.0.0.1"  # never another interface: the page has the campaign's data and no password


def listen(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (`port` 0: any free one). Not SO_REUSEADDR: on Windows that
    would let another program take the same port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise UsageProblem(f"无法在 {HOST}:{port} 上启动网页服务（{exc}）；请换一个端口或不指定端口") from exc
    sock.listen(128)
    return sock


def serve(folder: Path, say: Callable[[str], None], *, port: int = 0, open_browser: bool = True) -> None:
    import uvicorn

    from toolkit.web.app import create_app
    from toolkit.web.security import LOGIN_PATH, Session

    folder = Path(folder)
    if not folder.is_dir():
        raise UsageProblem(f"找不到活动文件夹：{folder}")
    sock = listen(port)
    host, bound = sock.getsockname()[:2]
    session = Session()
    address = f"http://{host}:{bound}{LOGIN_PATH}?token={session.launch}"
    server = uvicorn.Server(uvicorn.Config(create_app(folder, session, bound), log_level="warning",
                                           access_log=False, lifespan="off", server_header=False))
    try:  # Ctrl-C is the normal end, also when it comes before uvicorn has taken over the signal
        say(f"党建品牌工作台已启动：{folder.resolve()}")
        say(f"请在浏览器中打开：{address}")
        say("（此地址只能使用一次，只在本机可用；按 Ctrl-C 或关闭此窗口即停止）")
        if open_browser:
            threading.Timer(0.5, webbrowser.open, args=(address,)).start()
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn stops gracefully on Ctrl-C, then raises it again
        pass
    finally:
        sock.close()
    say("已停止。")
