"""`dashboard serve`: the dashboard in a browser (docs/serve.md).

Read-only unless `--allow-actions`; loopback unless `--host` says otherwise, and then
only with an access token from the environment. Exit 2 for a usage problem (no token
off loopback, a port in use, textual-serve not installed).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

from dashboard.commands.common import CommandError, open_runtime
from dashboard.webauth import TokenProblem, is_loopback, resolve_token


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "serve",
        parents=[common],
        help="在浏览器中使用看板 serve the dashboard to browsers (textual-serve)",
    )
    p.add_argument("--host", default="127.0.0.1", help="监听地址 bind address（默认 127.0.0.1 仅本机）")
    p.add_argument("--port", type=int, default=8000, help="端口 port（默认 8000）")
    p.add_argument(
        "--allow-actions",
        action="store_true",
        help="允许确认、静默、导出、立案与退出 allow acknowledging, silencing, exporting (默认只读 read-only)",
    )
    p.add_argument("--kiosk", action="store_true", help="轮播模式 kiosk（也可在网址上加 ?kiosk=1）")
    p.add_argument(
        "--token-env",
        metavar="NAME",
        help="访问令牌所在的环境变量 env var holding the access token（默认 [serve] token_env，其次 DASHBOARD_SERVE_TOKEN）",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("textual_serve") is None:
        raise CommandError(
            "参数错误 usage error: dashboard serve 需要 textual-serve："
            "pip install 'zhuanban-dashboard[serve]' (textual-serve is not installed)"
        )
    if not 0 < args.port < 65536:
        raise CommandError(f"参数错误 usage error: `--port`: {args.port} 不是有效端口（应为 1–65535）")
    config, runtime = open_runtime(args)
    env_name = args.token_env or config.serve_token_env or ""
    try:
        token = resolve_token(args.host, env_name or None)
    except TokenProblem as exc:
        runtime.close()
        raise CommandError(str(exc)) from None

    from dashboard.serve import DashboardServer, ServeOptions
    from dashboard.serve import run as serve

    options = ServeOptions(
        host=args.host,
        port=args.port,
        allow_actions=args.allow_actions,
        kiosk=args.kiosk,
        token=token,
        token_env=(env_name or "DASHBOARD_SERVE_TOKEN") if token else "",
        as_of=getattr(args, "as_of", None),
    )
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    if args.host in ("0.0.0.0", "::"):
        shown_host = "<本机地址 this machine>"
    url = f"http://{shown_host}:{args.port}/"
    mode = "可操作 actions allowed" if args.allow_actions else "只读 read-only"
    print(f"专班看板 dashboard serve: {url} （{mode}；数据源由本进程统一刷新 sources refreshed once here）")
    if token:
        print(
            f"需要访问令牌 token required: 首次打开 {url}?token=<环境变量 {options.token_env} 的值>，"
            "之后浏览器记住（cookie）；脚本用 Authorization: Bearer <令牌>"
        )
    elif not is_loopback(args.host):  # unreachable: resolve_token refuses it; kept as a guard
        raise CommandError("参数错误 usage error: 非本机地址需要访问令牌 token required")
    print("按 Ctrl+C 停止 press Ctrl+C to stop", flush=True)
    try:
        serve(DashboardServer(config, runtime, options))
    except OSError as exc:  # the port is taken, the address is not this machine's
        raise CommandError(
            f"参数错误 usage error: 无法监听 cannot listen on {args.host}:{args.port}: {exc}"
        ) from None
    finally:
        sys.stdout.flush()
    return 0
