// Prints N distinct TCP ports that are free on 127.0.0.1 right now, one per
// line: all N sockets are held open together, then released.
import net from 'node:net';

const n = Number(process.argv[2] ?? 1);
const servers = [];
for (let i = 0; i < n; i++) {
  const s = net.createServer();
  await new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  servers.push(s);
}
console.log(servers.map((s) => s.address().port).join('\n'));
await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
