// The shell script the memory bench runs in a QEMU guest (as /x0vm/run.sh, busybox + the host's
// tools over 9p): mosquitto, one peer (a bare federation, its own process), the measured agent;
// then once a second for `durationS` seconds one /health request (curl, 10 s timeout) and one
// smaps_rollup sample of the agent. Shell and curl, not node, so the harness adds no V8 heap to
// the guest it measures. Everything it learns goes to /x0vm (the results folder).
export interface GuestPlan {
  bundle: string;
  agentFlags: string[];
  peerFlags: string[];
  peerArg: string;
  durationS: number;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function guestScript(p: GuestPlan): string {
  return `
R=/x0vm T=/tmp/x0
ip link set lo up
mkdir -p $T && cp -a $R/agent $T/agent && cp -a $R/peer $T/peer && chmod 700 $T/agent $T/peer
mosquitto -c $R/mosquitto.conf > $R/mosquitto.log 2>&1 &
node ${p.agentFlags.join(' ')} ${q(p.bundle)} agent --config $R/agent.uci > $R/agent.log 2>&1 &
APID=$!
echo $APID > $R/agent.pid
up() { cut -d. -f1 /proc/uptime; }
t0=$(up)
until curl -s -m 10 --unix-socket $T/agent/status.sock -o /dev/null http://agent/health; do
  sleep 1
  [ $(( $(up) - t0 )) -gt 900 ] && break
done
echo $(( $(up) - t0 )) > $R/agent-start-seconds
node ${p.peerFlags.join(' ')} $R/peers.mjs ${q(p.peerArg)} > $R/peer.log 2>&1 &
end=$(( $(up) + ${p.durationS} ))
while [ $(up) -lt $end ]; do
  curl -s -o /dev/null -m 10 -w '%{http_code} %{time_total}\\n' --unix-socket $T/agent/status.sock http://agent/health >> $R/health.txt
  { grep -E '^(Rss|Anonymous|Swap):' /proc/$APID/smaps_rollup | tr -s ' \\n' ' '; echo; } >> $R/smaps.txt
  sleep 1
done
curl -s -m 30 --unix-socket $T/agent/status.sock http://agent/status > $R/status.json
cat /proc/meminfo > $R/meminfo.txt
dmesg > $R/dmesg.txt 2>&1
kill $APID
sleep 2
`;
}
