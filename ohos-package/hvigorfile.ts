// hvigor build script of the oss-append HAR module: hvigor's built-in HAR tasks, no plugins.
import { harTasks } from '@ohos/hvigor-ohos-plugin';

export default {
  system: harTasks,
  plugins: [],
};
