#!/usr/bin/python3
"""Throw-away OpenStack Swift cluster (proxy + s3api + tempauth) for tests.

Run with the system interpreter (the one that has Debian's python3-swift):

    launch.py start DIR PROXY_PORT ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT \
        MEMCACHED_PORT [--watch-pid PID] [--memcached-pid PID]

        Writes swift.conf, the four server confs and the three rings into
        DIR, imports Swift once and forks one child per server, writes
        DIR/ready once every server reports that it is serving
        (DIR/run/<server>.ready) and accepts TCP connections, then
        supervises the children until it receives SIGTERM/SIGINT, a child
        dies, or the watched process (the test runner) disappears; in the
        last case it also stops memcached and removes DIR. Children are
        always stopped before exit.
        Server logs go to DIR/logs/<server>.log; this process logs to its own
        stdout/stderr (the caller redirects them to DIR/logs/launcher.log).

    launch.py serve DIR CONF NAME LAUNCHER_PID

        Runs one Swift WSGI server in the foreground (workers = 0), in the
        launcher's process group, and dies together with the launcher. This
        is what each forked child of `start` does; handy for debugging.

The caller is expected to start this process in its own process group, so
that signalling the group reaches the launcher and every server at once.
"""

import getpass
import os
import signal
import socket
import sys
import time

SERVERS = ('proxy', 'account', 'container', 'object')
DEVICE = 'd1'
HASH_SUFFIX = 'sluice-test-suffix'
# name under which `serve` registers this file so paste.deploy can import
# the filter below (see write_configs)
MODULE_ALIAS = 'sluice_swift_launch'


def log(msg):
    sys.stderr.write('[launch.py %s] %s\n' % (time.strftime('%H:%M:%S'), msg))
    sys.stderr.flush()


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

def run_user():
    if os.geteuid() == 0:
        return 'root'
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry for the uid
        import pwd
        return pwd.getpwuid(os.geteuid()).pw_name


def common_section(d, port, name):
    return '\n'.join([
        '[DEFAULT]',
        'bind_ip = 127.0.0.1',
        'bind_port = %d' % port,
        # fail fast (default: retry for 30 s) if the port got taken since
        # the caller picked it; the caller retries with fresh ports
        'bind_timeout = 3',
        'workers = 0',
        'user = %s' % run_user(),
        'swift_dir = %s' % d,
        'devices = %s' % os.path.join(d, 'devices'),
        'mount_check = false',
        'disable_fallocate = true',
        'fallocate_reserve = 0',
        'log_name = %s' % name,
        'log_level = INFO',
        '',
    ])


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)


def write_configs(d, ports, memcached_port):
    write(os.path.join(d, 'swift.conf'), '\n'.join([
        '[swift-hash]',
        'swift_hash_path_prefix = ',
        'swift_hash_path_suffix = %s' % HASH_SUFFIX,
        '',
        '[storage-policy:0]',
        'name = Policy-0',
        'default = yes',
        '',
    ]))

    write(os.path.join(d, 'proxy-server.conf'), common_section(
        d, ports['proxy'], 'proxy-server') + '\n'.join([
            '[pipeline:main]',
            'pipeline = catch_errors gatekeeper proxy-logging cache '
            'listing_formats s3_single_auth s3api tempauth copy slo dlo '
            'proxy-logging proxy-server',
            '',
            '[app:proxy-server]',
            'use = egg:swift#proxy',
            'account_autocreate = true',
            '',
            '[filter:catch_errors]',
            'use = egg:swift#catch_errors',
            '',
            '[filter:gatekeeper]',
            'use = egg:swift#gatekeeper',
            '',
            '[filter:proxy-logging]',
            'use = egg:swift#proxy_logging',
            '',
            '[filter:cache]',
            'use = egg:swift#memcache',
            'memcache_servers = 127.0.0.1:%d' % memcached_port,
            '',
            '[filter:listing_formats]',
            'use = egg:swift#listing_formats',
            '',
            '[filter:s3_single_auth]',
            'paste.filter_factory = %s:s3_single_auth_filter_factory'
            % MODULE_ALIAS,
            '',
            '[filter:s3api]',
            'use = egg:swift#s3api',
            'location = us-east-1',
            '',
            '[filter:tempauth]',
            'use = egg:swift#tempauth',
            'user_test_tester = testing .admin',
            '',
            '[filter:copy]',
            'use = egg:swift#copy',
            '',
            '[filter:slo]',
            'use = egg:swift#slo',
            '',
            '[filter:dlo]',
            'use = egg:swift#dlo',
            '',
        ]))

    for kind in ('account', 'container', 'object'):
        write(os.path.join(d, '%s-server.conf' % kind), common_section(
            d, ports[kind], '%s-server' % kind) + '\n'.join([
                '[pipeline:main]',
                'pipeline = %s-server' % kind,
                '',
                '[app:%s-server]' % kind,
                'use = egg:swift#%s' % kind,
                '',
            ]))


def build_rings(d, ports):
    from swift.common.ring import RingBuilder

    for kind in ('account', 'container', 'object'):
        builder = RingBuilder(8, 1, 1)
        builder.add_dev({
            'region': 1, 'zone': 1, 'ip': '127.0.0.1',
            'port': ports[kind], 'device': DEVICE, 'weight': 100,
            'meta': '',
        })
        builder.rebalance()
        builder.save(os.path.join(d, '%s.builder' % kind))
        builder.get_ring().save(os.path.join(d, '%s.ring.gz' % kind))


def check_xattrs(path):
    probe = os.path.join(path, '.xattr-probe')
    write(probe, '')
    try:
        os.setxattr(probe, 'user.sluice.probe', b'1')
    except OSError as e:
        raise SystemExit('%s does not support user xattrs (%s); the Swift '
                         'object server needs them' % (path, e))
    finally:
        os.unlink(probe)


# --------------------------------------------------------------------------
# AWS behaviour that Swift's s3api lacks
# --------------------------------------------------------------------------

AUTH_QUERY_PARAMS = ('X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature',
                     'AWSAccessKeyId', 'Signature')


def s3_single_auth_filter_factory(global_conf, **local_conf):
    """Reject requests that carry query-string auth AND an Authorization
    header, like AWS S3 does (400 InvalidArgument, "Only one auth mechanism
    allowed"). Swift 2.30's s3api silently prefers the query string and
    serves the object, which would hide a gateway that leaks its client's
    Authorization header to the object store."""
    from urllib.parse import parse_qs

    body = (
        b"<?xml version='1.0' encoding='UTF-8'?>\n"
        b'<Error><Code>InvalidArgument</Code>'
        b'<Message>Only one auth mechanism allowed; only the X-Amz-Algorithm '
        b'query parameter, Signature query string parameter or the '
        b'Authorization header should be specified</Message>'
        b'<ArgumentName>Authorization</ArgumentName></Error>')

    def make_filter(app):
        def s3_single_auth(environ, start_response):
            if environ.get('HTTP_AUTHORIZATION'):
                params = parse_qs(environ.get('QUERY_STRING', ''),
                                  keep_blank_values=True)
                if any(p in params for p in AUTH_QUERY_PARAMS):
                    start_response('400 Bad Request', [
                        ('Content-Type', 'application/xml'),
                        ('Content-Length', str(len(body)))])
                    return [body]
            return app(environ, start_response)
        return s3_single_auth
    return make_filter


# --------------------------------------------------------------------------
# start: supervise one child per server
# --------------------------------------------------------------------------

def port_open(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.5):
            return True
    except OSError:
        return False


def proc_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still "exists" for kill(); look at /proc for its state
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return True


def is_memcached(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return b'memcached' in f.read().split(b'\0')[0]
    except OSError:
        return False


class Child(object):
    """One forked Swift server."""

    def __init__(self, name, pid):
        self.name = name
        self.pid = pid
        self.status = None  # waitpid() status once reaped

    def poll(self):
        if self.status is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.pid, 0
            if pid == self.pid:
                self.status = status
        return self.status

    def describe(self):
        if self.status is None:
            return 'running'
        if os.WIFSIGNALED(self.status):
            return 'killed by signal %d' % os.WTERMSIG(self.status)
        return 'exited with status %d' % os.WEXITSTATUS(self.status)

    def signal(self, signum):
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except OSError:
                pass


def preload_swift():
    """Import what every server needs once, before forking, so that the four
    children do not each pay for it (roughly halves the start-up CPU)."""
    import paste.deploy  # noqa: F401  (pulls in pkg_resources)
    from swift.common import utils, wsgi  # noqa: F401
    import swift.proxy.server  # noqa: F401
    import swift.account.server  # noqa: F401
    import swift.container.server  # noqa: F401
    import swift.obj.server  # noqa: F401
    import swift.common.middleware.s3api.s3api  # noqa: F401
    import swift.common.middleware.tempauth  # noqa: F401
    import swift.common.middleware.slo  # noqa: F401
    import swift.common.middleware.dlo  # noqa: F401


def fork_server(d, name, log_path):
    """Fork a child that runs serve_forever(); returns its Child."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return Child(name, pid)

    # --- child: never return into the launcher's code ---
    code = 1
    try:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        out = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        os.close(null)
        conf = os.path.join(d, '%s-server.conf' % name)
        code = serve_forever(d, conf, '%s-server' % name, os.getppid())
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        import traceback
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code or 0)


def start(argv):
    import argparse
    p = argparse.ArgumentParser(prog='launch.py start')
    p.add_argument('dir')
    for name in SERVERS:
        p.add_argument('%s_port' % name, type=int)
    p.add_argument('memcached_port', type=int)
    p.add_argument('--watch-pid', type=int, default=0,
                   help='stop everything when this process disappears')
    p.add_argument('--memcached-pid', type=int, default=0,
                   help='memcached process group to kill when --watch-pid '
                        'disappears (the caller could not do it itself)')
    args = p.parse_args(argv)

    t0 = time.time()
    d = os.path.abspath(args.dir)
    ports = dict((name, getattr(args, '%s_port' % name)) for name in SERVERS)
    logs = os.path.join(d, 'logs')
    os.makedirs(logs, exist_ok=True)
    run = os.path.join(d, 'run')
    os.makedirs(run, exist_ok=True)
    os.makedirs(os.path.join(d, 'devices', DEVICE), exist_ok=True)
    check_xattrs(os.path.join(d, 'devices', DEVICE))

    stopping = [False]

    def on_signal(signum, _frame):
        stopping[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    write_configs(d, ports, args.memcached_port)
    build_rings(d, ports)
    preload_swift()
    log('configs and rings written, swift loaded in %.2fs'
        % (time.time() - t0))

    children = []

    def stop_children():
        for child in children:
            child.signal(signal.SIGTERM)
        deadline = time.time() + 5
        while time.time() < deadline and \
                any(c.poll() is None for c in children):
            time.sleep(0.02)
        for child in children:
            if child.poll() is None:
                child.signal(signal.SIGKILL)
                try:
                    os.waitpid(child.pid, 0)
                except ChildProcessError:
                    pass

    exit_code = 0
    orphaned = False
    try:
        for name in SERVERS:
            if stopping[0]:
                break
            children.append(fork_server(
                d, name, os.path.join(logs, '%s.log' % name)))

        ready = False
        while not stopping[0]:
            dead = [c for c in children if c.poll() is not None]
            if dead:
                for c in dead:
                    log('%s-server %s' % (c.name, c.describe()))
                exit_code = 1
                break
            if args.watch_pid and not proc_alive(args.watch_pid):
                log('watched process %d is gone; shutting down'
                    % args.watch_pid)
                if args.memcached_pid and is_memcached(args.memcached_pid):
                    try:
                        os.killpg(args.memcached_pid, signal.SIGTERM)
                    except OSError:
                        pass
                exit_code = 1
                orphaned = True
                break
            if not ready and all(
                    os.path.exists(os.path.join(run, '%s-server.ready' % n))
                    and port_open(ports[n]) for n in SERVERS):
                ready = True
                write(os.path.join(d, 'ready'), '%.3f\n' % (time.time() - t0))
                log('all servers accept connections after %.2fs'
                    % (time.time() - t0))
            time.sleep(0.05 if not ready else 0.1)
    finally:
        stop_children()
        log('stopped')
        if orphaned:
            # nobody is left to clean up the throw-away directory
            import shutil
            shutil.rmtree(d, ignore_errors=True)
    return exit_code


# --------------------------------------------------------------------------
# serve: one Swift server in the foreground
# --------------------------------------------------------------------------

def serve(argv):
    if len(argv) != 4:
        raise SystemExit('usage: launch.py serve DIR CONF NAME LAUNCHER_PID')
    d, conf, name, launcher_pid = argv
    return serve_forever(d, conf, name, int(launcher_pid))


def serve_forever(d, conf, name, launcher_pid):
    from swift.common import utils, wsgi

    sys.modules.setdefault(MODULE_ALIAS, sys.modules[__name__])

    # Swift always adds a syslog handler (falling back to UDP localhost:514
    # when /dev/log is missing). Replace it with a no-op so that the only
    # log destination is the console handler (stderr -> the log file).
    class _NoSyslog(utils.logging.NullHandler):
        def __init__(self, *args, **kwargs):
            utils.logging.NullHandler.__init__(self)

    utils.ThreadSafeSysLogHandler = _NoSyslog

    # run_wsgi() "daemonizes" with os.setsid(); stay in the launcher's
    # process group instead, so that signalling the group reaches us too.
    def _hygiene_without_setsid():
        os.chdir('/')
        os.umask(0o22)

    wsgi.clean_up_daemon_hygiene = _hygiene_without_setsid

    # Die with the launcher, even if it is SIGKILLed, and show up in ps as
    # e.g. "swift-proxy" rather than as another launcher (Linux only).
    try:
        import ctypes
        pr_set_pdeathsig, pr_set_name = 1, 15
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        comm = ('swift-' + name.split('-')[0])[:15].encode()
        libc.prctl(pr_set_name, ctypes.c_char_p(comm), 0, 0, 0)
    except Exception:
        pass
    if os.getppid() != launcher_pid:
        return 1  # the launcher died before prctl() took effect

    # Tell the launcher when *this* process is serving on its port (a plain
    # TCP probe could be answered by whoever else holds the port).
    ready_file = os.path.join(d, 'run', '%s.ready' % name)
    strategy = getattr(wsgi, 'WorkersStrategy', None)
    original = getattr(strategy, 'signal_ready', None)
    if original is not None:
        def signal_ready(self):
            original(self)
            write(ready_file, '%d\n' % os.getpid())
        strategy.signal_ready = signal_ready
    else:  # other Swift versions: best effort
        write(ready_file, '%d\n' % os.getpid())

    utils.set_swift_dir(d)
    return wsgi.run_wsgi(conf, name, verbose=True)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ('start', 'serve'):
        sys.stderr.write(__doc__)
        return 2
    if sys.argv[1] == 'start':
        return start(sys.argv[2:])
    return serve(sys.argv[2:])


if __name__ == '__main__':
    sys.exit(main())
