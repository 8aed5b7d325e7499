// The shell script the memory bench runs in a QEMU guest (as /x0vm/run.sh, busybox + the host's
// tools over 9p). Only the measured agent runs in the guest, as on a router: its peer and the
// MQTT broker run on the host, reached over QEMU's user-mode network (the host is 10.0.2.2; the
// peer dials in through a host forward). Then once a second for `durationS` seconds one /health
// request (curl, 10 s timeout) and one smaps_rollup sample of the agent: shell and curl, not
// node, so the harness adds no V8 heap to the guest it measures. Results go to /x0vm.
export interface GuestPlan {
  bundle: string;
  agentFlags: string[];
  durationS: number;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function guestScript(p: GuestPlan): string {
  return `
R=/x0vm T=/tmp/x0
ip link set lo up
modprobe virtio_net
IF=$(ls /sys/class/net | grep -v '^lo$' | head -n1)
ip link set "$IF" up && ip addr add 10.0.2.15/24 dev "$IF" && ip route add default via 10.0.2.2
mkdir -p $T && cp -a $R/agent $T/agent && chmod 700 $T/agent
node ${p.agentFlags.join(' ')} ${q(p.bundle)} agent --config $R/agent.uci > $R/agent.log 2>&1 &
APID=$!
up() { cut -d. -f1 /proc/uptime; }
t0=$(up)
until curl -s -m 10 --unix-socket $T/agent/status.sock -o /dev/null http://agent/health; do
  sleep 1
  [ $(( $(up) - t0 )) -gt 900 ] && break
done
echo $(( $(up) - t0 )) > $R/agent-start-seconds
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
