// X's own post-length rules (the npm package twitter-text), for the tests: reads a JSON
// array of strings on stdin and prints a JSON array of
// {"weightedLength", "valid", "urls": [[start, end], ...]} (indices in code points).
"use strict";

const path = require("path");
const twitterText = require(path.join(__dirname, "..", "..", "node_modules", "twitter-text"));

function codePointIndex(text, utf16Index) {
  return Array.from(text.slice(0, utf16Index)).length;
}

function describe(text) {
  const parsed = twitterText.parseTweet(text);
  const normal = text.normalize();
  const urls = twitterText
    .extractUrlsWithIndices(normal)
    .map(({ indices: [start, end] }) => [codePointIndex(normal, start), codePointIndex(normal, end)]);
  return { weightedLength: parsed.weightedLength, valid: parsed.valid, urls };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  input += chunk;
});
process.stdin.on("end", () => {
  process.stdout.write(JSON.stringify(JSON.parse(input).map(describe)));
});
