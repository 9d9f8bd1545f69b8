import closeWithGrace from 'close-with-grace';
import { buildApp } from './app';
import { loadConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await buildApp(config);
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info({ signal }, 'closing');
    await app.close();
  });
  await app.listen({ host: config.host, port: config.port });
  if (process.env.USER_BATCH_EXIT_WITH_PARENT === '1') exitWhenOrphaned(app.log, () => app.close());
}

/**
 * Under jupyter-server-proxy the proxy belongs to one Jupyter server. If that server dies without
 * stopping us (SIGKILL), a later server starts its own proxy on the same store; an orphan left
 * polling beside it would only compete, so it leaves. Jobs are detached and are not affected.
 */
function exitWhenOrphaned(log: { warn: (obj: object, msg: string) => void }, close: () => Promise<unknown>): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    log.warn({ parent }, 'the Jupyter server that started this proxy is gone; stopping');
    close().finally(() => process.exit(0));
  }, 2000);
  timer.unref();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
