"""A standard NATS client (nats-py) connecting with a `.creds` file written by `hoinghi admin`.

Usage: python3 nats_py_creds.py URL CREDS IDENTITY ALLOWED_SUBJECT REFUSED_SUBJECT

Connects with `user_credentials=CREDS` (the file unchanged) and the identity's inbox prefix, sends
one request to ALLOWED_SUBJECT (a service must answer it) and publishes once to REFUSED_SUBJECT (the
server must report a permissions violation). Prints one JSON line with what happened; exit 0 when
both came out as expected. Run by tests/e2e/standard_clients.rs.
"""

import asyncio
import json
import sys

import nats


async def main(url, creds, identity, allowed, refused):
    errors = []

    async def on_error(e):
        errors.append(str(e))

    nc = await nats.connect(
        url,
        user_credentials=creds,
        inbox_prefix=f"_INBOX.{identity}",
        error_cb=on_error,
        max_reconnect_attempts=0,
        connect_timeout=5,
    )
    result = {"connected": True}
    try:
        reply = await nc.request(allowed, b"{}", timeout=10)
        result["reply"] = reply.data.decode("utf-8", "replace")
    except Exception as e:  # noqa: BLE001 - reported to the Rust test
        result["request_error"] = repr(e)
    await nc.publish(refused, b"{}")
    await nc.flush()
    for _ in range(50):
        if any("permissions violation" in e.lower() for e in errors):
            break
        await asyncio.sleep(0.1)
    result["errors"] = errors
    await nc.close()
    print(json.dumps(result))
    ok = "reply" in result and any(refused in e and "permissions violation" in e.lower() for e in errors)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:6])))
