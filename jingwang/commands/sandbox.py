"""``jingwang sandbox``: serve the offline demo marketplace (沙箱商城)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the jingwang app."""

    @app.command("sandbox")
    def sandbox(
        host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")]
        = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
        seed: Annotated[int, typer.Option(help="Seed the listings are generated from.")]
        = 20231117,
    ) -> None:
        """Serve the offline demo marketplace with its generated listings."""
        from sandbox.server import serve

        typer.echo(f"沙箱商城: http://{host}:{port}  (seed {seed})")
        serve(host, port, seed)
