// Specification of the label file formats (include/earshot/label_format.hpp), byte for byte.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "earshot/error.hpp"
#include "earshot/label_format.hpp"

namespace {

using earshot::Detection;
using earshot::LabelFormat;

const std::vector<Detection> kTwoDetections = {
    {"activate", 1.25, 0.5, 1.1, 0.875f},
    {"activate", 7.0, 5.9123456, 6.5, 0.5f},
};

TEST_CASE("audacity labels are start, end and keyword separated by tabs, 6 decimals") {
  CHECK(earshot::format_detections(LabelFormat::kAudacity, "clip.wav", kTwoDetections) ==
        "0.500000\t1.100000\tactivate\n"
        "5.912346\t6.500000\tactivate\n");
}

TEST_CASE("a tab or line break in the keyword cannot split an audacity label") {
  const std::vector<Detection> odd = {{"hey\tyou\n", 1.0, 0.0, 0.5, 0.9f}};
  CHECK(earshot::format_detections(LabelFormat::kAudacity, "x.wav", odd) ==
        "0.000000\t0.500000\they you \n");
}

TEST_CASE("json lines carry file, keyword, time_s, start_s, end_s and score in that order") {
  CHECK(earshot::format_detections(LabelFormat::kJson, "clips/a.wav", kTwoDetections) ==
        "{\"file\":\"clips/a.wav\",\"keyword\":\"activate\",\"time_s\":1.250000,"
        "\"start_s\":0.500000,\"end_s\":1.100000,\"score\":0.875000}\n"
        "{\"file\":\"clips/a.wav\",\"keyword\":\"activate\",\"time_s\":7.000000,"
        "\"start_s\":5.912346,\"end_s\":6.500000,\"score\":0.500000}\n");
}

TEST_CASE("json escapes quotes and backslashes in file names, and each line parses") {
  const std::string line = earshot::format_detections(LabelFormat::kJson, "say \"hi\"\\x.wav",
                                                      {kTwoDetections.data(), 1});
  CHECK(line.find(R"("file":"say \"hi\"\\x.wav")") != std::string::npos);
  const nlohmann::json parsed = nlohmann::json::parse(line);
  CHECK(parsed["file"] == "say \"hi\"\\x.wav");
  CHECK(parsed["score"].get<double>() == 0.875);
}

TEST_CASE("a file name that is not UTF-8 still gives valid json") {
  const std::string line =
      earshot::format_detections(LabelFormat::kJson, "bad\xff.wav", {kTwoDetections.data(), 1});
  CHECK_NOTHROW(nlohmann::json::parse(line));
}

TEST_CASE("csv has a header row and one row per detection") {
  CHECK(earshot::label_header(LabelFormat::kCsv) +
            earshot::format_detections(LabelFormat::kCsv, "clips/a.wav", kTwoDetections) ==
        "file,keyword,time_s,start_s,end_s,score\n"
        "clips/a.wav,activate,1.250000,0.500000,1.100000,0.875000\n"
        "clips/a.wav,activate,7.000000,5.912346,6.500000,0.500000\n");
}

TEST_CASE("csv quotes a field with a comma, quote or line break and doubles its quotes") {
  CHECK(earshot::csv_field("plain name.wav") == "plain name.wav");
  CHECK(earshot::csv_field("a,b.wav") == "\"a,b.wav\"");
  CHECK(earshot::csv_field("say \"hi\".wav") == "\"say \"\"hi\"\".wav\"");
  CHECK(earshot::csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(earshot::format_detections(LabelFormat::kCsv, "a,\"b\".wav", {kTwoDetections.data(), 1}) ==
        "\"a,\"\"b\"\".wav\",activate,1.250000,0.500000,1.100000,0.875000\n");
}

TEST_CASE("only csv has a header") {
  CHECK(earshot::label_header(LabelFormat::kAudacity).empty());
  CHECK(earshot::label_header(LabelFormat::kJson).empty());
}

TEST_CASE("no detections give no lines") {
  for (const LabelFormat format : {LabelFormat::kAudacity, LabelFormat::kJson, LabelFormat::kCsv}) {
    CHECK(earshot::format_detections(format, "a.wav", {}).empty());
  }
}

TEST_CASE("step probabilities are a time_s,probability csv with 6 decimals") {
  const std::vector<earshot::StepProbability> steps = {{0.0, 0.125f, 0.0f}, {0.04, 0.5f, 0.0f}};
  CHECK(earshot::format_step_probabilities(steps) ==
        "time_s,probability\n"
        "0.000000,0.125000\n"
        "0.040000,0.500000\n");
}

TEST_CASE("format names and label file extensions") {
  CHECK(earshot::parse_label_format("audacity") == LabelFormat::kAudacity);
  CHECK(earshot::parse_label_format("json") == LabelFormat::kJson);
  CHECK(earshot::parse_label_format("csv") == LabelFormat::kCsv);
  CHECK(earshot::label_file_extension(LabelFormat::kAudacity) == ".txt");
  CHECK(earshot::label_file_extension(LabelFormat::kJson) == ".jsonl");
  CHECK(earshot::label_file_extension(LabelFormat::kCsv) == ".csv");
  CHECK(earshot::label_format_name(LabelFormat::kJson) == "json");
}

TEST_CASE("an unknown format name is rejected with the accepted names") {
  CHECK_THROWS_WITH(earshot::parse_label_format("xml"),
                    Catch::Contains("xml") && Catch::Contains("audacity, json or csv"));
}

}  // namespace
