"""Benchmark of the local Zoho server: record writes per second with 100-record insert calls, and
seconds per 25,000-row Bulk Write job (upload → job → COMPLETED → result zip).

    python bench/zoho_server.py [--records 20000] [--rows 25000] [--threads 1,4]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import httpx

from clinic2zoho.zoho_server.process import ZohoServerProcess


def server_cpu(zs: ZohoServerProcess) -> float:
    """CPU seconds the server process has used (from /proc): the figure that does not depend on
    what else the shared machine is running."""
    fields = open(f"/proc/{zs.proc.pid}/stat").read().rsplit(")", 1)[1].split()  # type: ignore[union-attr]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def record_batches(total: int, prefix: str) -> list[list[dict[str, object]]]:
    rows = [{"Last_Name": f"Patient {prefix}{i}", "First_Name": "Bench", "Email": f"{prefix}{i}@bench.example",
             "Phone": "555-0100", "Date_of_Birth": "1980-01-01", "Clinic_Patient_Id": f"{prefix}{i}"} for i in range(total)]
    return [rows[k:k + 100] for k in range(0, total, 100)]


def bench_records(zs: ZohoServerProcess, token: str, total: int, threads: int) -> float:
    batches = record_batches(total, f"t{threads}-")
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    clients = [httpx.Client(base_url=zs.api_url, headers=headers, timeout=60) for _ in range(threads)]

    def send(n: int) -> int:
        resp = clients[n % threads].post("/crm/v8/Contacts", json={"data": batches[n]})
        assert resp.status_code == 201, resp.text[:300]
        return len(batches[n])

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        written = sum(pool.map(send, range(len(batches))))
    elapsed = time.perf_counter() - started
    for c in clients:
        c.close()
    return written / elapsed


def bench_bulk(zs: ZohoServerProcess, token: str, rows: int) -> tuple[float, dict[str, object]]:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["Last_Name", "First_Name", "Email", "Clinic_Patient_Id"])
    for i in range(rows):
        writer.writerow([f"Bulk {i}", "Bench", f"bulk{i}@bench.example", f"B{i}"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("contacts.csv", text.getvalue())
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    with httpx.Client(base_url=zs.api_url, headers=headers, timeout=120) as client:
        started = time.perf_counter()
        up = client.post("/crm/v8/upload", files={"file": ("contacts.zip", buf.getvalue(), "application/zip")},
                         headers={"feature": "bulk-write", "X-CRM-ORG": zs.zgid})
        up.raise_for_status()
        job = client.post("/crm/bulk/v8/write", json={
            "operation": "upsert", "ignore_empty": True,
            "resource": [{"type": "data", "module": {"api_name": "Contacts"}, "file_id": up.json()["details"]["file_id"],
                          "find_by": "Clinic_Patient_Id",
                          "field_mappings": [{"api_name": n, "index": i} for i, n in
                                             enumerate(["Last_Name", "First_Name", "Email", "Clinic_Patient_Id"])]}]})
        job.raise_for_status()
        job_id = job.json()["details"]["id"]
        while True:
            status = client.get(f"/crm/bulk/v8/write/{job_id}").json()
            if status["status"] in ("COMPLETED", "FAILED"):
                break
            time.sleep(0.1)
        result = client.get(status["result"]["download_url"]) if status["status"] == "COMPLETED" else None
        elapsed = time.perf_counter() - started
    counts = status["resource"][0]["file"]
    assert result is not None and result.status_code == 200
    return elapsed, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=25_000)
    parser.add_argument("--threads", default="1,4")
    args = parser.parse_args()
    with ZohoServerProcess(settings={"bulk_start_delay": 0.0}) as zs:
        token = zs.access_token()
        httpx.post(f"{zs.api_url}/crm/v8/settings/fields", params={"module": "Contacts"},
                   headers={"Authorization": f"Zoho-oauthtoken {token}"},
                   json={"fields": [{"field_label": "Clinic Patient Id", "data_type": "text", "external": {"type": "org"}}]}
                   ).raise_for_status()
        print(f"machine load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for threads in [int(t) for t in args.threads.split(",")]:
            cpu = server_cpu(zs)
            rate = bench_records(zs, token, args.records, threads)
            per_cpu = args.records / max(server_cpu(zs) - cpu, 1e-9)
            print(f"record writes: {rate:,.0f} records/s ({args.records:,} records in 100-record insert calls, "
                  f"{threads} client thread(s)); server CPU: {per_cpu:,.0f} records per CPU-second")
        cpu = server_cpu(zs)
        seconds, counts = bench_bulk(zs, token, args.rows)
        print(f"bulk write: {seconds:.2f} s per {args.rows:,}-row job (upload + job + poll + result download), "
              f"server CPU {server_cpu(zs) - cpu:.2f} s; counts {counts}")


if __name__ == "__main__":
    main()
