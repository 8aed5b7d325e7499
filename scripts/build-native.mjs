// placeholder until this build step lands
console.error("build-native: nothing to build yet");
