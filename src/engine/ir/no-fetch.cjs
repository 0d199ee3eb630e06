// Stands in for @protobufjs/fetch in the bundles (esbuild.mjs aliases it here). protobufjs only
// calls it from Root.load, to read .proto files by path or URL (XMLHttpRequest in a browser);
// BERT Lab parses its one schema from a string and never loads files or URLs through protobufjs.
module.exports = function fetch(filename) {
  throw new Error(`protobufjs tried to fetch ${filename}; BERT Lab does not load files or URLs through protobufjs`);
};
