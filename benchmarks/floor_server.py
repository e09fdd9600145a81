"""The floor: a bare aiohttp handler that inserts one row per request, one transaction each."""

from __future__ import annotations

import os

from aiohttp import web
from sqlalchemy import Column, Integer, MetaData, Table, Text

from bot.db import create_engine

metadata = MetaData()
rows = Table("floor_rows", metadata, Column("id", Integer, primary_key=True), Column("body", Text))


async def lifetime(app: web.Application) -> object:
    engine = create_engine(os.environ["DATABASE_URL"])
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    app["engine"] = engine
    yield
    await engine.dispose()


async def insert(request: web.Request) -> web.Response:
    body = await request.text()
    async with request.app["engine"].begin() as connection:
        await connection.execute(rows.insert().values(body=body))
    return web.json_response({"outcome": "applied"})


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


app = web.Application(client_max_size=1024 * 1024)
app.router.add_post("/insert", insert)
app.router.add_get("/healthz", healthz)
app.cleanup_ctx.append(lifetime)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), print=None, access_log=None)
