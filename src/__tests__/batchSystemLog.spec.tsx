import * as React from 'react';
import { createRoot } from 'react-dom/client';

import { BatchSystemLogFollower } from '../services/batchSystemLog';
import { Batch } from '../tokens';
import { BatchSystemLog } from '../widgets/batchSystemLog';
import { makeJob } from './fakes';

const flushPromises = () => new Promise(resolve => setTimeout(resolve, 0));

describe('BatchSystemLog', () => {
  beforeEach(() => {
    (
      globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
    ).IS_REACT_ACT_ENVIRONMENT = true;
  });

  it('reads HTCondor events only once unfolded, and appends what is new', async () => {
    const calls: number[] = [];
    const chunks: Batch.ILogChunk[] = [
      {
        text: '000 (7.0.0) Job submitted from host\n',
        from: 0,
        next: 36,
        size: 36,
        complete: false
      },
      {
        text: '001 (7.0.0) Job executing on host\n',
        from: 36,
        next: 70,
        size: 70,
        complete: true
      }
    ];
    jest.useFakeTimers();
    // The model's follower, reading through a stand-in for the client.
    const follower = new BatchSystemLogFollower({
      read: async (_id, from) => {
        calls.push(from);
        return chunks[calls.length - 1] ?? chunks[chunks.length - 1];
      }
    });
    const host = document.createElement('div');
    const root = createRoot(host);
    React.act(() =>
      root.render(
        <BatchSystemLog
          job={makeJob({ backend: 'htcondor' })}
          log={follower}
          title="HTCondor events"
        />
      )
    );
    expect(host.querySelector('summary')!.textContent).toBe('HTCondor events');
    expect(calls).toEqual([]); // folded: nothing read
    const details = host.querySelector('details')!;
    await React.act(async () => {
      details.open = true;
      details.dispatchEvent(new Event('toggle'));
      await Promise.resolve();
    });
    await React.act(async () => {
      await jest.advanceTimersByTimeAsync(0);
    });
    expect(
      host.querySelector('pre.jp-Batch-SystemLogText')!.textContent
    ).toContain('Job submitted from host');
    await React.act(async () => {
      await jest.advanceTimersByTimeAsync(2000);
    });
    expect(calls).toEqual([0, 36]);
    expect(host.querySelector('pre.jp-Batch-SystemLogText')!.textContent).toBe(
      chunks[0].text + chunks[1].text
    );
    // complete: no more reads
    await React.act(async () => {
      await jest.advanceTimersByTimeAsync(10000);
    });
    expect(calls).toEqual([0, 36]);
    React.act(() => root.unmount());
    follower.dispose();
    jest.useRealTimers();
    await flushPromises();
  });
});
