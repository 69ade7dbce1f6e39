// The error a (sync or async) call fails with; fails the test when it does not fail.
export async function caught(body: () => unknown): Promise<unknown> {
  try {
    await body();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
