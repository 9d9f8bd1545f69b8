/**
 * A React hook for the model's signals: the value a signal last carried,
 * starting from the source's current state.
 */
import { ISignal } from '@lumino/signaling';
import * as React from 'react';

export function useSignalValue<T>(
  signal: ISignal<unknown, T>,
  current: () => T
): T {
  const [value, setValue] = React.useState<T>(current);
  React.useEffect(() => {
    const onChange = (_: unknown, next: T) => setValue(() => next);
    signal.connect(onChange);
    // A change between the first render and this effect is not lost.
    setValue(current);
    return () => {
      signal.disconnect(onChange);
    };
  }, [signal]);
  return value;
}
