/**
 * A synchronous better-sqlite3 call as the Store's promise: its result resolved, its
 * exception rejected (never thrown at the caller before the promise exists).
 */
export function settled<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** A synchronous generator read as an AsyncIterable: each step one synchronous call (an exception: a rejection). */
export function asyncOf<T>(make: () => Iterator<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      let steps: Iterator<T> | undefined;
      return {
        next: () => settled(() => (steps ??= make()).next()),
        return: (value?: unknown) => settled(() => steps?.return?.(value) ?? ({ done: true, value: undefined } as IteratorResult<T>)),
      };
    },
  };
}
