import { summarizeProvenance } from '../widgets/format';
import { Batch } from '../tokens';

const job = {
  id: 'j1',
  name: 'fit',
  notebookPath: 'work/fit.ipynb',
  createdAt: '2026-12-02T10:00:00Z',
  startedAt: null,
  endedAt: null,
  exitCode: null
} as unknown as Batch.IJob;

describe('the provenance summary', () => {
  it("says a sweep's runs and the values each parameter took", () => {
    const rows = summarizeProvenance(
      {
        parameters: { threshold: 0.5 },
        spec: {
          sweep: [
            { band: 'g', n: 1 },
            { band: 'r', n: 1 },
            { band: 'g', n: 2 },
            { band: 'r', n: 2 }
          ]
        }
      } as unknown as Batch.Provenance,
      job
    );
    expect(rows.find(r => r.label === 'Sweep')?.value).toBe(
      '4 runs: band = "g", "r"; n = 1, 2'
    );
    expect(rows.find(r => r.label === 'Parameters')?.value).toBe(
      'threshold = 0.5'
    );
  });

  it('has no sweep line for a single run', () => {
    const rows = summarizeProvenance(
      { parameters: {}, spec: {} } as unknown as Batch.Provenance,
      job
    );
    expect(rows.map(r => r.label)).not.toContain('Sweep');
  });
});
