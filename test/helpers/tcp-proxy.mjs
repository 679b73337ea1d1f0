/**
 * A TCP proxy in its own process (test/faults.test.ts): the tests run the CLI with spawnSync, which
 * blocks the test process's event loop, so a proxy living there could not pass a byte meanwhile.
 * Usage: fork(this, [targetHost, targetPort]); it sends {port} once listening, and obeys the
 * messages 'cut' (drop every connection, refuse new ones) and 'restore', answering each with 'ok'.
 */
import net from 'node:net';

const [host, port] = process.argv.slice(2);
const sockets = new Set();
let open = true;
const server = net.createServer((client) => {
  if (!open) return void client.destroy();
  const upstream = net.connect(Number(port), host);
  sockets.add(client).add(upstream);
  const drop = () => {
    client.destroy();
    upstream.destroy();
    sockets.delete(client);
    sockets.delete(upstream);
  };
  client.on('error', drop).on('close', drop);
  upstream.on('error', drop).on('close', drop);
  client.pipe(upstream).pipe(client);
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (m) => {
  if (m === 'cut') {
    open = false;
    for (const s of sockets) s.destroy();
    sockets.clear();
  } else if (m === 'restore') {
    open = true;
  }
  process.send('ok');
});
process.on('disconnect', () => process.exit(0));
