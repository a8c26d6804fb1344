#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Interoperability of examples/noise-echo with an independent implementation
# of the Noise Protocol Framework: dissononce (Debian's python3-dissononce,
# pure Python on the `cryptography` package; it shares no code with gw).
#   interop_test.py CLIENT SERVER
# For every XX suite, XXpsk3, NN and IK, a dissononce initiator talks to
# noise-echo-server and a dissononce responder to noise-echo-client, over TCP
# on 127.0.0.1 with a 2-byte big-endian length before every message. Each run
# checks that the echoes match and that both sides agree on the handshake hash
# and on each other's static keys. Exits 77 (skip) without dissononce.
import base64
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading

try:
    from dissononce.extras.meta.protocol.factory import NoiseProtocolFactory
    from dissononce.dh.x25519.public import PublicKey
    from dissononce.dh.x25519.x25519 import X25519DH
except ImportError:
    print("skip: python3-dissononce is not installed")
    sys.exit(77)

CLIENT, SERVER = sys.argv[1], sys.argv[2]
TIMEOUT = 20  # seconds for any one wait; the programs get --timeout 10
MESSAGES = [b"hello", b"", b"x" * 60000, "gr\u00fc\u00dfe".encode()]
failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures += 1


def send(sock, data):
    sock.sendall(struct.pack(">H", len(data)) + data)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("the peer closed the connection")
        data += chunk
    return data


def recv(sock):
    (n,) = struct.unpack(">H", recv_exact(sock, 2))
    return recv_exact(sock, n)


def write_key(directory, name, data):
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(data).decode() + "\n")
    return path


def printed(output, label):
    for line in output.splitlines():
        if line.startswith(label + ": "):
            return line[len(label) + 2:].strip()
    return None


def run_noise(sock, name, initiator, s, rs, psk):
    """Runs the handshake with dissononce; returns (send, receive, hash, remote static)."""
    protocol = NoiseProtocolFactory().get_noise_protocol(name)
    hs = protocol.create_handshakestate()
    hs.initialize(protocol.pattern, initiator, b"", s=s, rs=rs, psks=[psk] if psk else None)
    writing = initiator
    while True:
        if writing:
            buf = bytearray()
            result = hs.write_message(b"", buf)
            send(sock, bytes(buf))
        else:
            payload = bytearray()
            result = hs.read_message(recv(sock), payload)
        writing = not writing
        if result is not None:
            c1, c2 = result
            sender, receiver = (c1, c2) if initiator else (c2, c1)
            remote = hs.rs.data if hs.rs is not None else None
            return sender, receiver, hs.symmetricstate.get_handshake_hash(), remote


def case(name, psk=False):
    prefix = name.split("_")[1]
    static = prefix != "NN"
    with tempfile.TemporaryDirectory() as d:
        ours = X25519DH().generate_keypair() if static else None
        theirs = X25519DH().generate_keypair() if static else None
        key = os.urandom(32) if psk else None
        args = ["--protocol", name, "--timeout", "10"]
        if static:
            args += ["--static-key", write_key(d, "theirs.key", theirs.private.data)]
        if key:
            args += ["--psk", write_key(d, "shared.psk", key)]

        # dissononce initiator -> noise-echo-server.
        server = subprocess.Popen([SERVER, "--port", "0"] + args, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            port, line = None, "x"
            while port is None and line:  # it prints its key first; it exits on failure
                line = server.stdout.readline()
                if line.startswith("listening on"):
                    port = int(line.rsplit(":", 1)[1])
            check(port is not None, f"{name}: noise-echo-server listens")
            if port is None:
                return
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
                rs = PublicKey(theirs.public.data) if prefix == "IK" else None
                tx, rx, h, remote = run_noise(sock, name, True, ours, rs, key)
                echoed = True
                for m in MESSAGES:
                    send(sock, tx.encrypt_with_ad(b"", m))
                    echoed = echoed and rx.decrypt_with_ad(b"", recv(sock)) == m
            out, _ = server.communicate(timeout=TIMEOUT)
            check(echoed and server.returncode == 0,
                  f"{name}: dissononce -> noise-echo-server echoes (exit {server.returncode})")
            check(printed(out, "handshake hash") == h.hex(), f"{name}: same handshake hash")
            expect = ours.public.data.hex() if static else "none"
            check(printed(out, "remote static key") == expect, f"{name}: server saw our key")
            if static:
                check(remote == theirs.public.data, f"{name}: we saw the server's key")
        except Exception as e:  # noqa: BLE001 - any failure is reported and counted
            check(False, f"{name}: dissononce -> noise-echo-server: {type(e).__name__}: {e}")
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()

        # noise-echo-client -> dissononce responder.
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(TIMEOUT)
        port = listener.getsockname()[1]
        result = {}

        def respond():
            try:
                conn, _ = listener.accept()
                with conn:
                    conn.settimeout(TIMEOUT)
                    tx, rx, h, remote = run_noise(conn, name, False, ours, None, key)
                    result["hash"], result["remote"] = h, remote
                    for _ in MESSAGES[:1]:
                        send(conn, tx.encrypt_with_ad(b"", rx.decrypt_with_ad(b"", recv(conn))))
            except Exception as e:  # noqa: BLE001
                result["error"] = f"{type(e).__name__}: {e}"

        thread = threading.Thread(target=respond)
        thread.start()
        client_args = ["--port", str(port), "--message", MESSAGES[0].decode()] + args
        if static:
            client_args += ["--remote-key", base64.b64encode(ours.public.data).decode()]
        try:
            client = subprocess.run([CLIENT] + client_args, capture_output=True, text=True,
                                    timeout=TIMEOUT)
            out = client.stdout
        except subprocess.TimeoutExpired:
            client, out = None, ""
        thread.join(TIMEOUT)
        listener.close()
        check(client is not None and client.returncode == 0 and "error" not in result,
              f"{name}: noise-echo-client -> dissononce echoes"
              + (f" ({result['error']})" if "error" in result else "")
              + ("" if client is None else f" (exit {client.returncode}: {client.stderr.strip()})"))
        check("hash" in result and printed(out, "handshake hash") == result["hash"].hex(),
              f"{name}: same handshake hash")
        if static:
            check(result.get("remote") == theirs.public.data, f"{name}: we saw the client's key")
            check(printed(out, "remote static key") == ours.public.data.hex(),
                  f"{name}: client saw our key")


aes = open("/proc/cpuinfo").read()
aes_ok = " aes" in aes and "pclmulqdq" in aes
for cipher in ["ChaChaPoly", "AESGCM"]:
    for hash_name in ["BLAKE2b", "SHA256", "SHA512"]:
        if cipher == "AESGCM" and not aes_ok:
            print(f"skip: Noise_XX_25519_{cipher}_{hash_name}: this CPU has no AES-NI")
            continue
        case(f"Noise_XX_25519_{cipher}_{hash_name}")
case("Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b", psk=True)
case("Noise_NN_25519_ChaChaPoly_SHA256")
case("Noise_IK_25519_ChaChaPoly_BLAKE2b")

print(f"interop: {failures} failed")
sys.exit(1 if failures else 0)
