// The repo's tsconfig uses node10 module resolution, which ignores package.json "exports"; vega-lite only declares
// its types there. Re-export them from their real location (types only: esbuild resolves the runtime through exports).
declare module 'vega-lite' {
  export * from 'vega-lite/build/index';
}
