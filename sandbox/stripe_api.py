"""The Stripe subset: products, prices, payment links (``/v1/...``), with idempotency keys.

Idempotency works like Stripe's: a POST with an ``Idempotency-Key`` already seen (per API
key) and the same path and parameters gets the first response again, with the header
``Idempotent-Replayed: true``; the same key with different parameters gets a 400
``idempotency_error``. Injected faults happen before this, so they are never saved.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from sandbox.forms import parse_form
from sandbox.state import State

Reply = tuple[int, dict[str, str], Any]
PREFIX = {"products": "prod", "prices": "price", "payment_links": "plink"}
OBJECT = {"products": "product", "prices": "price", "payment_links": "payment_link"}


def error(status: int, message: str, kind: str = "invalid_request_error", **extra: Any) -> Reply:
    return status, {}, {"error": {"type": kind, "message": message, **extra}}


def handle(
    state: State, method: str, path: str, headers: Any, body: bytes, *, base_url: str
) -> Reply:
    parts = [p for p in path.split("/") if p]  # v1, resource, [id]
    if len(parts) < 2 or parts[0] != "v1" or parts[1] not in PREFIX:
        return error(404, f"Unrecognized request URL ({method}: {path}).")
    resource = parts[1]
    params = parse_form(body)
    if method == "GET" and len(parts) == 3:
        return _retrieve(state, resource, parts[2])
    if method == "POST" and len(parts) == 2:
        key = headers.get("Idempotency-Key")
        if not key:
            return _create(state, resource, params, base_url)
        return _idempotent(
            state,
            headers=headers,
            key=key,
            path=path,
            body=body,
            resource=resource,
            params=params,
            base_url=base_url,
        )
    return error(404, f"Unrecognized request URL ({method}: {path}).")


def _idempotent(
    state: State,
    *,
    headers: Any,
    key: str,
    path: str,
    body: bytes,
    resource: str,
    params: dict[str, Any],
    base_url: str,
) -> Reply:
    scope = headers.get("Authorization", "")
    fingerprint = hashlib.sha256(path.encode() + b"\0" + body).hexdigest()
    with state.lock:
        saved = state.idempotency.get((scope, key))
        if saved is not None:
            if saved["fingerprint"] != fingerprint:
                return error(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    kind="idempotency_error",
                )
            return saved["status"], {"Idempotent-Replayed": "true"}, saved["body"]
        status, reply_headers, reply = _create(state, resource, params, base_url)
        if status < 500:
            state.idempotency[(scope, key)] = {
                "fingerprint": fingerprint,
                "status": status,
                "body": reply,
            }
        return status, reply_headers, reply


def _retrieve(state: State, resource: str, object_id: str) -> Reply:
    found = state.store(f"stripe.{resource}").get(object_id)
    if found is None:
        return error(404, f"No such {OBJECT[resource]}: '{object_id}'", code="resource_missing")
    return 200, {}, found


def _new_id(state: State, resource: str) -> str:
    return f"{PREFIX[resource]}_sbx{state.next_number():012d}"


def _create(state: State, resource: str, params: dict[str, Any], base_url: str) -> Reply:
    with state.lock:
        if resource == "products":
            return _product(state, params)
        if resource == "prices":
            return _price(state, params)
        return _payment_link(state, params, base_url)


def _product(state: State, params: dict[str, Any]) -> Reply:
    if not params.get("name"):
        return error(400, "Missing required param: name.", param="name")
    product = {
        "id": _new_id(state, "products"),
        "object": "product",
        "name": params["name"],
        "active": True,
        "created": int(time.time()),
        "livemode": False,
        "metadata": params.get("metadata", {}),
    }
    state.store("stripe.products")[product["id"]] = product
    return 200, {}, product


def _price(state: State, params: dict[str, Any]) -> Reply:
    currency, amount = params.get("currency"), params.get("unit_amount")
    if not currency:
        return error(400, "Missing required param: currency.", param="currency")
    if amount is None or not str(amount).isdigit():
        return error(400, "Invalid integer: unit_amount.", param="unit_amount")
    product = params.get("product")
    if product is None and isinstance(params.get("product_data"), dict):
        _, _, created = _product(state, params["product_data"])
        product = created.get("id")
    if product is None or product not in state.store("stripe.products"):
        return error(400, "Missing required param: product.", param="product")
    price = {
        "id": _new_id(state, "prices"),
        "object": "price",
        "currency": currency,
        "unit_amount": int(amount),
        "product": product,
        "active": True,
        "type": "one_time",
        "livemode": False,
        "metadata": params.get("metadata", {}),
    }
    state.store("stripe.prices")[price["id"]] = price
    return 200, {}, price


def _payment_link(state: State, params: dict[str, Any], base_url: str) -> Reply:
    items = params.get("line_items")
    if not isinstance(items, list) or not items:
        return error(400, "Missing required param: line_items.", param="line_items")
    prices = state.store("stripe.prices")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("price") not in prices:
            return error(
                400,
                f"No such price: '{item.get('price') if isinstance(item, dict) else item}'",
                param=f"line_items[{index}][price]",
                code="resource_missing",
            )
    link_id = _new_id(state, "payment_links")
    link = {
        "id": link_id,
        "object": "payment_link",
        "active": True,
        "url": f"{base_url}/_sandbox/pay/{link_id}",
        "currency": prices[items[0]["price"]]["currency"],
        "livemode": False,
        "metadata": params.get("metadata", {}),
        "line_items_json": json.dumps(items),
    }
    state.store("stripe.payment_links")[link_id] = link
    return 200, {}, link
