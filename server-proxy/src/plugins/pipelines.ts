import fp from 'fastify-plugin';
import { PipelinePlanner } from '../pipeline-runs';

declare module 'fastify' {
  interface FastifyInstance {
    pipelines: PipelinePlanner;
  }
}

/** Pipeline plans (quantum graphs built before a submit); old ones are removed at start. */
export const pipelinesPlugin = fp(
  async app => {
    const { config } = app;
    const pipelines = new PipelinePlanner({
      rootDir: config.rootDir,
      dataDir: config.dataDir,
      python: config.python,
      site: config.pipelines,
    });
    pipelines.cleanup();
    app.decorate('pipelines', pipelines);
  },
  { name: 'pipelines', dependencies: ['store'] },
);
