#!/usr/bin/env python3
"""A loopback HTTP server for the libcurl tests.  Prints its port, then
serves until killed.  Paths: /patch.mbox (200), /missing (404), /slow
(answers after 30 s), /truncated (promises 1000 bytes, sends 100),
/flaky (500 once, then 200), /MSGID/raw (a message by Message-ID),
POST /collect (needs 'Authorization: Bearer secret', stores the body in
the file named by argv[1]).  Hostile answers: /big (64 MiB with its
length), /big-unsized (64 MiB, no length, ends at close), /empty (204),
/empty200 (200, no body), POST /moved (307 to /collect-moved, which
stores what reaches it in argv[1] + '.moved').  Every request's method,
path and Authorization header are appended to argv[1] + '.log'."""
import http.server, socketserver, sys, time

store = sys.argv[1]
hits = {}
PATCH = open(sys.argv[2], 'rb').read()

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def send(self, code, body, length=None):
        self.send_response(code)
        self.send_header('Content-Length', str(length if length is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)
    def note(self):
        with open(store + '.log', 'a') as f:
            f.write(f"{self.command} {self.path} {self.headers.get('Authorization', '-')}\n")
    def do_GET(self):
        self.note()
        hits[self.path] = hits.get(self.path, 0) + 1
        if self.path in ('/patch.mbox', '/20261121.lazyfree-off@example.org/raw',
                         '/odd%3Fid%23frag%25@example.org/raw'):
            self.send(200, PATCH)
        elif self.path in ('/big', '/big-unsized'):
            self.send_response(200)
            if self.path == '/big':
                self.send_header('Content-Length', str(64 << 20))
            self.end_headers()
            try:
                for i in range(64):
                    self.wfile.write(b'x' * (1 << 20))
            except OSError:
                pass
            self.close_connection = True
        elif self.path == '/empty':
            self.send_response(204)
            self.end_headers()
        elif self.path == '/empty200':
            self.send(200, b'')
        elif self.path == '/slow':
            time.sleep(30)
            self.send(200, b'late')
        elif self.path == '/truncated':
            self.send(200, PATCH[:100], length=1000)
            self.wfile.flush()
            self.connection.close()
        elif self.path == '/flaky':
            self.send(500 if hits[self.path] == 1 else 200, b'flaky' if hits[self.path] == 1 else PATCH)
        else:
            self.send(404, b'no such thing')
    def do_POST(self):
        self.note()
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        if self.path in ('/moved', '/moved308'):
            self.send_response(307 if self.path == '/moved' else 308)
            self.send_header('Location', '/collect-moved')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        if self.path == '/collect-moved':
            open(store + '.moved', 'wb').write(body)
        if self.headers.get('Authorization') != 'Bearer secret':
            return self.send(401, b'who are you')
        open(store, 'wb').write(body)
        self.send(201, b'stored')

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

srv = S(('127.0.0.1', 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
