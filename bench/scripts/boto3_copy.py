#!/usr/bin/env python3
"""The plain way to copy a skill's DynamoDB table to S3 with boto3: scan, and put one object per
item (the official S3 adapter's layout: prefix/id, the attributes as JSON). The baseline of
`persistence-bench --copy`.

Numbers are written with their exact text (DynamoDB's N strings), so the copy is as exact as the
tool's; strings and maps are encoded with json.dumps. Prints one JSON object: keys, elapsed_s,
keys_per_s, peak_rss_kib (ru_maxrss of this process).
"""
import argparse
import json
import resource
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def to_json(av):
    """A low-level DynamoDB AttributeValue as JSON text, numbers exact."""
    (kind, value), = av.items()
    if kind == "S":
        return json.dumps(value, ensure_ascii=False)
    if kind == "N":
        return value
    if kind == "BOOL":
        return "true" if value else "false"
    if kind == "NULL":
        return "null"
    if kind == "L":
        return "[" + ",".join(to_json(v) for v in value) + "]"
    if kind == "M":
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + to_json(v) for k, v in value.items()) + "}"
    if kind in ("SS", "NS"):
        return "[" + ",".join(to_json({kind[0]: v}) for v in value) + "]"
    raise ValueError(f"cannot copy a {kind} value")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--bucket", required=True)
    p.add_argument("--prefix", default="boto3")
    p.add_argument("--threads", type=int, default=1, help="puts at once (1: the plain loop)")
    args = p.parse_args()
    kw = dict(endpoint_url=args.endpoint, region_name="us-east-1",
              aws_access_key_id="test", aws_secret_access_key="test")
    dynamodb = boto3.client("dynamodb", **kw)
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"},
                                          max_pool_connections=max(10, args.threads)), **kw)

    def put(item):
        body = to_json(item.get("attributes", {"M": {}})).encode("utf-8")
        s3.put_object(Bucket=args.bucket, Key=f"{args.prefix}/{item['id']['S']}", Body=body,
                      ContentType="application/json")

    started = time.monotonic()
    n = 0
    pages = dynamodb.get_paginator("scan").paginate(TableName=args.table, ConsistentRead=True)
    if args.threads <= 1:
        for page in pages:
            for item in page["Items"]:
                put(item)
                n += 1
    else:
        with ThreadPoolExecutor(args.threads) as pool:
            for page in pages:
                for _ in pool.map(put, page["Items"]):
                    n += 1
    elapsed = time.monotonic() - started
    print(json.dumps({
        "keys": n,
        "elapsed_s": elapsed,
        "keys_per_s": n / elapsed if elapsed > 0 else 0.0,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
