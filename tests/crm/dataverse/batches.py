"""$batch requests as a Dataverse client writes them (multipart/mixed, change sets), for the batch tests."""

import json

BASE_URL = "http://testserver/api/data/v9.2/"


def http_part(method, url, body=None, content_id=None):
    """One application/http part of a batch: ``method`` on ``url`` (relative to the Web API's root)."""
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"{method} {BASE_URL}{url} HTTP/1.1", "Content-Type: application/json; type=entry", ""]
    return "\r\n".join(lines) + "\r\n" + (json.dumps(body) if body is not None else "")


def batch_body(batch, *parts):
    """``parts``: an application/http part (a string) or a change set (a list of them)."""
    out = []
    for number, part in enumerate(parts):
        if isinstance(part, list):
            changeset = f"changeset_{number}"
            inner = "".join(f"--{changeset}\r\n{p}\r\n" for p in part) + f"--{changeset}--"
            out.append(f"--{batch}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n{inner}\r\n")
        else:
            out.append(f"--{batch}\r\n{part}\r\n")
    return ("".join(out) + f"--{batch}--\r\n").encode()


def post_batch(dv, body, batch="batch_1", headers=None):
    return dv.request("POST", "$batch", raw=body, content_type=f"multipart/mixed; boundary={batch}",
                      headers=headers)
