// placeholder until this build step lands
console.error("build-bundle: nothing to build yet");
