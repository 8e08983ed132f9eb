"""Split responses and the gap after them, from `strace -f -tt -e trace=write,writev,sendto,recvfrom -p <spin trigger pid>`.
Usage: python3 bench/experiments/gaps.py trace.out [<fd of the client connection>] (bench/FINDINGS.md, section 1).
Without an fd: every fd that received requests, each on its own. `write` counts like `writev`
(hyper may write a single buffer with either)."""
import re,sys,statistics,collections
if len(sys.argv)<3:
    fds=collections.Counter(m[1] for l in open(sys.argv[1])
        for m in [re.match(r'\d+ +[\d:.]+ recvfrom\((\d+), "(GET|POST) ',l)] if m)
    for fd,n in fds.most_common():
        print(f"fd {fd}: {n} requests")
        sys.stdout.flush()
        import subprocess; subprocess.run([sys.executable,sys.argv[0],sys.argv[1],fd])
    sys.exit(0)
# strace -tt lines: pid time call(fd, ...
ev=[]
for l in open(sys.argv[1]):
    m=re.match(r'\d+ +(\d+):(\d+):([\d.]+) (writev|write|sendto|recvfrom)\((\d+), (.*)',l)
    if not m: continue
    t=int(m[1])*3600+int(m[2])*60+float(m[3]); call,fd,rest=m[4],m[5],m[6]
    if fd!=sys.argv[2]: continue
    if call=='recvfrom' and ('GET ' in rest or 'POST ' in rest): ev.append(('req',t))
    elif call in ('writev','write','sendto'): ev.append(('w',t,'HTTP/1.1' in rest,'0\\r\\n\\r\\n"' in rest))
split,whole=[],[]
i=0
while i<len(ev):
    if ev[i][0]=='w' and ev[i][2]:
        j=i; n=0
        while j<len(ev) and ev[j][0]=='w' and (j==i or not ev[j][2]): n+=1; j+=1
        last=ev[j-1][1]
        if j<len(ev) and ev[j][0]=='req':
            (split if n>1 else whole).append((ev[j][1]-last)*1000)
        i=j
    else: i+=1
for name,g in (('one writev',whole),('split into 2-3 writevs',split)):
    if g: print(f"{name}: {len(g)} responses, gap to next request: median {statistics.median(g):.2f} ms, max {max(g):.1f} ms, >=35 ms: {sum(x>=35 for x in g)}")
# Outbound requests (Spin's client: sidecar, relay, FCM): a request whose body left in a later write.
out=collections.Counter()
prev={}
for l in open(sys.argv[1]):
    m=re.match(r'\d+ +[\d:.]+ (sendto|writev|write)\((\d+), "(.{0,16})',l)
    if not m or m[2]==sys.argv[2]: continue
    if re.match(r'(POST|GET|PUT) /',m[3]): out['requests']+=1; prev[m[2]]='head'
    elif prev.get(m[2])=='head' and re.match(r'[0-9A-Fa-f]+\\r\\n|\{|\\\\{',m[3]): out['body in a later write']+=1; prev[m[2]]=None
if out: print(f"outbound (other fds): {out['requests']} requests, body in a later write: {out['body in a later write']}")
