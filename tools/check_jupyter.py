#!/usr/bin/env python
"""Start JupyterLab headless, open a kernel through its REST API and run the first code cells of a notebook in it.

    python tools/check_jupyter.py [--notebook nbs/index.ipynb] [--cells 4]

Checks what a user's first minute in Jupyter does: the server starts, serves the lab page, a kernel starts, imports
reid_nb and runs the home page's first cells without error. Exits non-zero, with the reason, otherwise.
"""
import argparse, json, os, secrets, socket, subprocess, sys, time, uuid, urllib.request
from pathlib import Path
import nbformat
from tornado import ioloop, websocket

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def http(url, method='GET', token='', data=None):
    req = urllib.request.Request(url, method=method, data=None if data is None else json.dumps(data).encode(),
                                 headers={'Authorization': f'token {token}', 'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=30) as r: return r.status, r.read()

async def run_cells(ws_url, token, sources, timeout):
    "Execute each source on the kernel's websocket; return (outputs per cell, first error or None)"
    ws = await websocket.websocket_connect(websocket.httpclient.HTTPRequest(ws_url, headers={'Authorization': f'token {token}'}))
    outs = []
    for src in sources:
        mid = uuid.uuid4().hex
        ws.write_message(json.dumps(dict(header=dict(msg_id=mid, username='ci', session=uuid.uuid4().hex, msg_type='execute_request', version='5.3'),
                                         parent_header={}, metadata={}, channel='shell',
                                         content=dict(code=src, silent=False, store_history=True, user_expressions={}, allow_stdin=False))))
        got, t0 = [], time.time()
        while True:
            if time.time() - t0 > timeout: return outs, f'timeout after {timeout}s running:\n{src}'
            m = json.loads(await ws.read_message())
            if m.get('parent_header', {}).get('msg_id') != mid: continue
            t, c = m['msg_type'], m['content']
            if t == 'stream': got.append(c['text'])
            elif t in ('execute_result', 'display_data'): got.append(c['data'].get('text/plain', ''))
            elif t == 'error': return outs + [got], f"{c['ename']}: {c['evalue']} in:\n{src}"
            elif t == 'status' and c['execution_state'] == 'idle': break
        outs.append(got)
    ws.close()
    return outs, None

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--notebook', default='nbs/index.ipynb'); p.add_argument('--cells', type=int, default=4)
    p.add_argument('--timeout', type=int, default=120)
    a = p.parse_args()
    nb = Path(a.notebook).resolve()
    srcs = [c.source for c in nbformat.read(nb, as_version=4).cells if c.cell_type == 'code' and not c.source.startswith('#| hide')][:a.cells]
    token, port = secrets.token_hex(16), free_port()
    log = open(Path(os.environ.get('TMPDIR', '/tmp'))/f'jupyterlab-{port}.log', 'w')
    srv = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--allow-root', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                            f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={nb.parent}'], stdout=log, stderr=subprocess.STDOUT)
    base = f'http://127.0.0.1:{port}'
    try:
        t0 = time.time()
        while True:
            try: http(f'{base}/api/status', token=token); break
            except OSError:
                if srv.poll() is not None or time.time() - t0 > 60: sys.exit(f'check_jupyter: JupyterLab did not start (log: {log.name})')
                time.sleep(0.5)
        print(f'JupyterLab up in {time.time() - t0:.1f}s on port {port}')
        st, page = http(f'{base}/lab', token=token)
        assert st == 200 and b'JupyterLab' in page, 'the /lab page did not load'
        st, body = http(f'{base}/api/kernels', 'POST', token, {'name': 'python3', 'path': str(nb.parent)})
        kid = json.loads(body)['id']
        ws_url = f'ws://127.0.0.1:{port}/api/kernels/{kid}/channels'
        outs, err = ioloop.IOLoop.current().run_sync(lambda: run_cells(ws_url, token, srcs, a.timeout))
        for s, o in zip(srcs, outs): print(f'>>> {s}\n' + ''.join(o)[:600])
        if err: sys.exit(f'check_jupyter: a cell failed in the kernel: {err}')
        http(f'{base}/api/kernels/{kid}', 'DELETE', token)
        print(f'check_jupyter: the kernel ran the first {len(srcs)} code cells of {nb.name} without error')
    finally:
        srv.terminate(); srv.wait(10)

if __name__ == '__main__': main()
