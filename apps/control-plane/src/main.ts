import { ConfigError, loadConfig } from './config';
import { startControlPlane } from './control-plane';
import { createLogger } from './logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel, 'karvon-control-plane');
  let running;
  try {
    running = await startControlPlane(config, { logger });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') logger.fatal(`port ${config.port} is already in use: set KARVON_PORT to a free port`);
    else logger.fatal({ err }, 'control plane failed to start');
    process.exit(1);
  }
  const cp = running;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'signal received');
    cp.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

await main();
